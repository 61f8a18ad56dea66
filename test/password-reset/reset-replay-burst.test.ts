import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode } from "../support/client.ts";

const LIMIT = 6;

/**
 * ASVS 2.8.5 without a flood: the reset's code, once it has reset the password, replayed again and again
 * with the browser's reset state kept (a script holding the signed cookie the answer cleared). Each replay is
 * refused counting nothing and is one `code.reused` line, with no cap of its own: what bounds the lines is
 * the route's request limit (FAMOS_RATE_LIMIT a minute per address, here 6), past which the burst is
 * answered 429 and writes nothing — the bound every audited refusal of a public form already has
 * (password.failed is written for each refused sign-in, even while locked, without any secret).
 */
describe("a replay burst of the reset's used code", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self", FAMOS_RATE_LIMIT: String(LIMIT) } });
  });
  afterAll(async () => t?.close());

  it("each replay up to the request limit is one code.reused, counting nothing; past it, 429 and no line", async () => {
    const user = await addUser(t.deps, { email: "replay.burst@dealer.example" });
    const client = new FormClient(t.app, "198.51.100.77");
    const before = t.smtp.messages.length;
    await client.get("/forgot-password");
    await client.post("/forgot-password", { loginId: user.login_id });
    await t.app.afterReply.settled();
    const code = await nextCode(t.smtp, "replay.burst@dealer.example", before);
    await client.get("/forgot-password/code");
    const state = client.cookies.get("famos_reset")!;
    const form = { code, newPassword: "reset then replayed", confirmNewPassword: "reset then replayed" };
    expect((await client.post("/forgot-password/code", form)).headers.location).toBe("/login?reset=1");
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 4; i += 1) {
      client.cookies.set("famos_reset", state);
      statuses.push((await client.post("/forgot-password/code", form)).statusCode);
    }
    const refused = statuses.filter((s) => s === 400).length;
    // One of the route's requests this minute was the reset itself; the replays get the rest, then only 429.
    expect(statuses).toEqual([...Array<number>(refused).fill(400), ...Array<number>(statuses.length - refused).fill(429)]);
    expect(refused).toBe(LIMIT - 1);
    const reused = await queryAudit(t.deps.db, { subject: user.login_id, event: "code.reused" });
    expect(reused.map((e) => e.detail)).toEqual(Array(refused).fill({ purpose: "password-reset" }));
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "code.failed" })).toEqual([]);
    expect((await accountLockInfo(t.deps, user.login_key, t.clock.now())).reset.failures).toBe(0);
  });
});
