import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEVICE_LIFETIME_MS, DEVICES_PER_BROWSER, deviceToken, identifyDevice, type DeviceReads, rememberDevice, revokeDevices, tokenFor } from "../../src/regulation/devices.ts";
import { useUnitStore } from "../support/unit-store.ts";

const DAY = 86_400_000;

/**
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies", SPEC "Locks"): a
 * token is the row's id and an HMAC over the id and the login key; it is worth nothing altered, for
 * another login ID, once revoked, or a year after its last sign-in.
 */
describe("device cookies (unit tier)", () => {
  const unit = useUnitStore();
  const key = () => unit.keys.device;
  const now = unit.now;
  const devices = (loginKey: string) => unit.db.selectFrom("devices").selectAll().where("login_key", "=", loginKey).orderBy("created_at").execute();

  it("remembers a device for a year after its last sign-in; a browser keeps 15 tokens (a showroom's counter PC), in a cookie device-cookie.ts reads whole", () => {
    expect(DEVICE_LIFETIME_MS).toBe(365 * DAY);
    expect(DEVICES_PER_BROWSER).toBe(15);
    const cookie = Array.from({ length: DEVICES_PER_BROWSER }, (_, i) => deviceToken(key(), `d${i}`.padEnd(22, "x"), `staff${i}`)).join("~");
    expect(cookie.length).toBeLessThanOrEqual(1024);
  });

  it("makes a token of the id and an HMAC-SHA256 over the id and the login key, under the device key", () => {
    const expected = createHmac("sha256", key()).update("d-1\njane").digest("base64url");
    expect(deviceToken(key(), "d-1", "jane")).toBe(`d-1.${expected}`);
    expect(deviceToken(key(), "d-1", "jane")).not.toBe(deviceToken(key(), "d-1", "jane2"));
    expect(deviceToken(key(), "d-1", "jane")).not.toBe(deviceToken(Buffer.alloc(32, 1), "d-1", "jane"));
  });

  it("takes the first token that verifies for this login ID, and skips altered, foreign and malformed ones", () => {
    const good = deviceToken(key(), "d-good", "jane");
    const [id, mac] = good.split(".") as [string, string];
    const flipped = `${id}.${mac.slice(0, -2)}${mac.endsWith("AA") ? "BB" : "AA"}`;
    expect(tokenFor(key(), [good], "jane")).toBe("d-good");
    expect(tokenFor(key(), [good], "john")).toBeNull();
    expect(tokenFor(key(), [flipped], "jane")).toBeNull();
    expect(tokenFor(key(), [`${id}.${mac.slice(0, 10)}`], "jane")).toBeNull();
    expect(tokenFor(key(), [`${good}.extra`], "jane")).toBeNull();
    expect(tokenFor(key(), [`.${mac}`, `${id}.`, id, "", "."], "jane")).toBeNull();
    expect(tokenFor(key(), [deviceToken(key(), "d-other", "john"), flipped, good, deviceToken(key(), "d-later", "jane")], "jane")).toBe("d-good");
    expect(tokenFor(key(), [], "jane")).toBeNull();
  });

  it("refuses a device id longer than 64 characters even with a valid MAC", () => {
    const at64 = "x".repeat(64);
    const at65 = "x".repeat(65);
    expect(tokenFor(key(), [deviceToken(key(), at64, "jane")], "jane")).toBe(at64);
    expect(tokenFor(key(), [deviceToken(key(), at65, "jane")], "jane")).toBeNull();
  });

  it("remembers a new browser with a row, renews a known one, and identifies it while live", async () => {
    const token = await rememberDevice(unit, unit.db, "ann", null, now());
    const [row] = await devices("ann");
    expect(row).toEqual({ id: expect.any(String), login_key: "ann", created_at: now(), last_used_at: now(), revoked_at: null });
    expect(token).toBe(deviceToken(key(), row!.id, "ann"));
    expect(await identifyDevice(unit, [token], "ann", now())).toBe(row!.id);
    expect(await identifyDevice(unit, [token], "bob", now())).toBeNull();

    unit.clock.advance(100 * DAY);
    const renewed = await rememberDevice(unit, unit.db, "ann", row!.id, now());
    expect(renewed).toBe(token);
    expect(await devices("ann")).toEqual([{ ...row!, last_used_at: now() }]);

    unit.clock.advance(DEVICE_LIFETIME_MS - 1);
    expect(await identifyDevice(unit, [token], "ann", now())).toBe(row!.id);
    unit.clock.advance(1);
    expect(await identifyDevice(unit, [token], "ann", now())).toBeNull();
  });

  it("identifies nothing for a row of another login ID under the same id, or an unknown row", async () => {
    await unit.db.insertInto("devices").values({ id: "shared-id", login_key: "carol", created_at: now(), last_used_at: now(), revoked_at: null }).execute();
    expect(await identifyDevice(unit, [deviceToken(key(), "shared-id", "dave")], "dave", now())).toBeNull();
    expect(await identifyDevice(unit, [deviceToken(key(), "no-such-row", "dave")], "dave", now())).toBeNull();
    expect(await identifyDevice(unit, [deviceToken(key(), "shared-id", "carol")], "carol", now())).toBe("shared-id");
  });

  it("revokes every live device of the login ID, and only those", async () => {
    const a = await rememberDevice(unit, unit.db, "erin", null, now());
    const b = await rememberDevice(unit, unit.db, "erin", null, now());
    const other = await rememberDevice(unit, unit.db, "frank", null, now());
    expect(await revokeDevices(unit.db, "erin", now())).toBe(2);
    expect((await devices("erin")).map((d) => d.revoked_at)).toEqual([now(), now()]);
    expect(await identifyDevice(unit, [a, b], "erin", now())).toBeNull();
    expect(await identifyDevice(unit, [other], "frank", now())).not.toBeNull();
    unit.clock.advance(1);
    expect(await revokeDevices(unit.db, "erin", now())).toBe(0);
    expect((await devices("erin")).map((d) => d.revoked_at)).toEqual([now() - 1, now() - 1]);
  });

  it("answers a second lookup in the same request from its first read, judged at its own time; another request reads again", async () => {
    const token = await rememberDevice(unit, unit.db, "gina", null, now());
    const [row] = await devices("gina");
    const request: DeviceReads = new Map();
    const rows = () => unit.db.selectFrom("devices").select("id").where("id", "=", row!.id).execute();
    expect(await identifyDevice(unit, [token], "gina", now(), request)).toBe(row!.id);
    await unit.db.deleteFrom("devices").where("id", "=", row!.id).execute();
    expect(await rows()).toEqual([]);
    // Read once: the deleted row is not looked up again within the request that read it.
    expect(await identifyDevice(unit, [token], "gina", now(), request)).toBe(row!.id);
    // Its year runs out between the request limit's lookup and the step's: the step refuses it.
    unit.clock.advance(DEVICE_LIFETIME_MS);
    expect(await identifyDevice(unit, [token], "gina", now(), request)).toBeNull();
    // Another request (its own reads, or none) reads the row again.
    expect(await identifyDevice(unit, [token], "gina", now() - DEVICE_LIFETIME_MS, new Map())).toBeNull();
    expect(await identifyDevice(unit, [token], "gina", now() - DEVICE_LIFETIME_MS)).toBeNull();
    // A token for another login ID is another key.
    expect(await identifyDevice(unit, [deviceToken(key(), row!.id, "hal")], "hal", now(), request)).toBeNull();
  });
});
