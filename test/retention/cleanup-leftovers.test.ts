import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCleanup } from "../../src/retention/cleanup.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { DEVICE_LIFETIME_MS } from "../../src/regulation/devices.ts";
import { createUser } from "../../src/users/users.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

const DAY = 86_400_000;

/**
 * Months of a dealer network: staff sign in from new browsers (each a `devices` row, worth nothing a
 * year after its last use) and change addresses, some of which bounced (a `mail_addresses` row each).
 * The retention job must not keep those for ever: a device past its lifetime can never be used again,
 * and what bounces taught about an address nobody has any more helps nobody. What is still in use stays.
 */
describe.each(DIALECTS)("famos cleanup and what months leave behind, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 1, `cleanup_leftovers_${dialect}`);
  });
  afterAll(async () => t?.close());

  it("removes devices past their lifetime and bounce records of addresses no account has, and keeps the rest; a second run finds nothing", async () => {
    const deps = t.deps[0]!;
    const now = t.clock.now();
    const user = (await createUser(deps.db, TEST_KEYS, cryptoRandom, now, { loginId: "months", fullName: "Many Months", partnerNumber: "8", role: "user", passwordHash: "x", otpEmail: "Now@Dealer8.example" }))!;
    await deps.db.updateTable("users").set({ pending_email: "pending@dealer8.example" }).where("id", "=", user.id).execute();
    await deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: "contact@dealer8.example", grace_used: 0, announced_at: null }).execute();
    const device = (id: string, lastUsed: number) => ({ id, login_key: "months", created_at: lastUsed, last_used_at: lastUsed, revoked_at: null });
    await deps.db.insertInto("devices").values([device("dead-device", now - DEVICE_LIFETIME_MS - DAY), device("live-device", now - 300 * DAY)]).execute();
    const bounce = (key: string, at: number) => ({ address_key: key, undeliverable_at: at, undeliverable_reason: "5.1.1", soft_bounces: 0, last_soft_bounce_at: null, last_soft_reason: null, confirmed_at: null, updated_at: at });
    await deps.db.insertInto("mail_addresses").values([
      bounce("old@dealer8.example", now - 400 * DAY),
      bounce("now@dealer8.example", now - 400 * DAY),
      bounce("pending@dealer8.example", now - 400 * DAY),
      bounce("contact@dealer8.example", now - 400 * DAY),
      bounce("recent@dealer8.example", now - DAY),
    ]).execute();

    // Two rows a statement: the first batch of bounce records is all in use, and the next must go on after it.
    const report = await runCleanup(deps, { batch: 2 });
    expect(report).toMatchObject({ devices: 1, addresses: 1 });
    expect((await deps.db.selectFrom("devices").select("id").execute()).map((r) => r.id)).toEqual(["live-device"]);
    const kept = (await deps.db.selectFrom("mail_addresses").select("address_key").orderBy("address_key").execute()).map((r) => r.address_key);
    expect(kept).toEqual(["contact@dealer8.example", "now@dealer8.example", "pending@dealer8.example", "recent@dealer8.example"]);

    expect(await runCleanup(deps)).toMatchObject({ devices: 0, addresses: 0 });
  });
});
