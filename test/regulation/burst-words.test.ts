import { afterEach, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

/**
 * Each attempt is counted before its password is verified (regulation/counter.ts), so a burst of
 * sign-ins with the RIGHT password meets the lock its own unverified counts put in force. While an
 * attempt is unverified the server cannot tell a burst of right passwords from a burst of guesses, so
 * the refusal is what it is, a lock, and is audited `locked`; its words must be true in both cases:
 * too many attempts, not "repeated failures" nobody made (an in-flight marker that told them apart was
 * tried and reverted: it labelled a guessing burst benign in the audit trail).
 */
describe.each(DIALECTS)("16 sign-ins with the right password at once, over real HTTP (%s)", (dialect) => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it("each refused one says too many attempts (no failure it did not make), is audited `locked`, and leaves no lock", async () => {
    const t = await createTestApp({ database: dialect });
    apps.push(t);
    const user = await addUser(t.deps);
    const target = overHttp(await listen(t));
    const clients = Array.from({ length: 16 }, () => new FormClient(target));
    await Promise.all(clients.map((c) => c.get("/login")));

    const answers = await Promise.all(clients.map((c) => c.post("/login", { loginId: user.login_id, password: user.password })));
    const refused = answers.filter((r) => r.statusCode !== 303);
    // The burst meets its own reservations (FAMOS_LOCK_AFTER of them at once), so some are refused.
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((r) => r.statusCode === 303).every((r) => r.headers.location === "/otp")).toBe(true);
    for (const r of refused) {
      expect(r.body).toContain("after too many attempts");
      expect(r.body).not.toMatch(/fail/i);
    }
    const failed = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "password.failed").where("subject", "=", user.login_key).execute();
    expect(failed.map((row) => (JSON.parse(row.detail) as { reason: string }).reason)).toEqual(refused.map(() => "locked"));
    expect(await t.deps.db.selectFrom("audit").select("id").where("event", "=", "lock.started").execute()).toEqual([]);
    // No lock is left: the next sign-in from a new browser goes through.
    const next = new FormClient(target);
    await next.get("/login");
    expect((await next.post("/login", { loginId: user.login_id, password: user.password })).headers.location).toBe("/otp");
  });
});
