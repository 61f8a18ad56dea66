import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditPage, UNKNOWN_LOGIN_ID } from "../../src/support/audit-trail.ts";
import { addUser, createTestApp, type TestApp } from "./app.ts";
import { FormClient, signIn, submitPassword } from "./client.ts";

// Review finding: a real sign-in's expired code (code.expired, whose subject is the login ID) for an
// account whose login ID has a non-ASCII capital is a real account's line, not "(a login ID no account
// has)", on SQLite as on PostgreSQL; so is a typed login ID (password.failed) in any case of it.
describe.each(["sqlite", "postgres"] as const)("the trail's typed login IDs of real accounts (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp({ database }); });
  afterAll(async () => t?.close());

  it.each(["plain.expired", "Özge.Expired"])("code.expired of %s", async (loginId) => {
    const user = await addUser(t.deps, { loginId });
    const { client, code } = await signIn(t, { user, until: "otp" });
    t.clock.advance(t.config.otp.ttlMs + 1000);
    expect((await client.post("/otp", { code: code! })).statusCode).toBeGreaterThanOrEqual(400);
    const [mine] = (await auditPage(t.deps.db, { event: "code.expired" }, { page: 1 })).records;
    expect(mine?.subject).not.toBe(UNKNOWN_LOGIN_ID);
  });

  it("a login ID no account has stays hidden", async () => {
    expect((await submitPassword(new FormClient(t.app, "198.51.100.72"), "Nobody.Ümlaut", "wrong password")).statusCode).toBe(401);
    const [mine] = (await auditPage(t.deps.db, { event: "password.failed" }, { page: 1 })).records;
    expect(mine?.subject).toBe(UNKNOWN_LOGIN_ID);
  });
});
