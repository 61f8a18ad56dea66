import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const TEMPORARY = "tmp-pass-word-4711";

/**
 * The sign-in that spends a temporary password ends every other sign-in half-way with it, with its code
 * (stageAfterSignIn): the audit trail says so, as other ends of sessions are told (session.ended, how
 * many), so support sees why a browser was sent back to sign in. Nothing ended: no line. Both dialects.
 */
describe.each(["sqlite", "postgres"] as const)("the audit of a spent temporary password (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_TEMP_PASSWORD_TTL: "72h", FAMOS_2FA_GRACE_SIGNINS: "3" } });
  });
  afterAll(async () => t?.close());

  async function atOtp(client: FormClient, loginId: string): Promise<void> {
    const answer = await submitPassword(client, loginId, TEMPORARY);
    expect(answer.headers.location).toBe("/otp");
    await client.get("/otp");
  }

  it("lists the other sessions and codes the sign-in ended", async () => {
    const user = await addUser(t.deps, { loginId: `${database}.spent`, email: `${database}.spent@dealer.example` });
    expect((await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY, "RITM9")).kind).toBe("set");
    const first = new FormClient(t.app, "10.7.0.1");
    const second = new FormClient(t.app, "10.7.0.2");
    const mailed = t.smtp.messages.length;
    await atOtp(first, user.login_id);
    await nextCode(t.smtp, user.otp_email!, mailed);
    const before = t.smtp.messages.length;
    await atOtp(second, user.login_id);
    const confirmed = await second.post("/otp", { code: await nextCode(t.smtp, user.otp_email!, before) });
    expect(confirmed.headers.location).toBe("/choose-password");
    // The first browser's sign-in ended with the temporary password.
    expect((await first.get("/otp")).statusCode).toBe(303);

    const ended = await queryAudit(t.deps.db, { subject: user.login_id, event: "session.ended" });
    expect(ended.map((e) => ({ actor: e.actor, ip: e.ip, detail: e.detail }))).toEqual([
      { actor: user.login_id, ip: "10.7.0.2", detail: { reason: "temporary-password-used", others: 1, codesVoided: 1 } },
    ]);
  });

  it("\"Later\" on User profile that spends it lists the other sign-in it ended too", async () => {
    const user = await addUser(t.deps, { loginId: `${database}.later`, email: null });
    await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY, "RITM11");
    const [first, second] = [new FormClient(t.app, "10.7.1.1"), new FormClient(t.app, "10.7.1.2")];
    for (const client of [first, second]) expect((await submitPassword(client, user.login_id, TEMPORARY)).headers.location).toBe("/enrol");
    await second.get("/enrol");
    expect((await second.post("/enrol/later", {})).headers.location).toBe("/choose-password");
    const ended = await queryAudit(t.deps.db, { subject: user.login_id, event: "session.ended" });
    expect(ended.map((e) => ({ ip: e.ip, detail: e.detail }))).toEqual([{ ip: "10.7.1.2", detail: { reason: "temporary-password-used", others: 1, codesVoided: 0 } }]);
  });

  it("writes nothing more when the sign-in that spends it is the only one", async () => {
    const user = await addUser(t.deps, { loginId: `${database}.alone`, email: `${database}.alone@dealer.example` });
    await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY, "RITM10");
    const client = new FormClient(t.app, "10.7.0.3");
    const before = t.smtp.messages.length;
    await atOtp(client, user.login_id);
    expect((await client.post("/otp", { code: await nextCode(t.smtp, user.otp_email!, before) })).headers.location).toBe("/choose-password");
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "session.ended" })).toEqual([]);
  });
});
