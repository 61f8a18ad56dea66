import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { startPasswordReset } from "../support/password-reset.ts";

const MINUTE = 60_000;

/**
 * An expired code at the self-service reset's step 2 is written as sign-in writes it: one line, code.expired
 * (SPEC's audit list: code "expired"), detail result "expired" — one home of which event a code's refusal
 * writes (codeRefusedLine). And a code typed on a reset flow that has ended (another flow's code reset the
 * password) says what sign-in's explainMissingCode says for the same history: "expired" for a code that had
 * expired, "void" for one the end voided, never "no-code" (which says no flow's code was there to compare).
 * Each is still a guess: counted on the reset's counter, as before. Before: code.failed with result
 * "expired" on the open flow, and result "no-code" on the ended one.
 */
describe.each(["sqlite", "postgres"] as const)("an expired code at the self-service reset, on %s", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_PASSWORD_RESET: "self" } });
  });
  afterAll(async () => t?.close());

  let n = 0;
  const ctx = () => ({ ip: `192.0.2.${140 + (++n % 50)}`, userAgent: "reset-expired-code", deviceTokens: [] });
  const form = (code: string) => ({ code, newPassword: "an expired code then 140", confirmNewPassword: "an expired code then 140" });
  /** The code's refusals in the trail, oldest first, and what the reset's counter holds. */
  const trail = async (user: { login_id: string; login_key: string }) => {
    const rows = (await queryAudit(t.deps.db, { subject: user.login_id })).filter((r) => r.event === "code.failed" || r.event === "code.expired");
    const counted = (await accountLockInfo(t.deps, user.login_key, t.deps.clock.now())).reset.failures;
    return { lines: rows.reverse().map((r) => ({ event: r.event, detail: r.detail })), counted };
  };
  /** A reset started for `user`, and the code it mailed. */
  const started = async (user: { login_id: string; otp_email: string | null }) => {
    const mark = await t.mailbox.mark();
    const state = await startPasswordReset(t.deps, user.login_id, ctx());
    return { state, code: await t.mailbox.code(user.otp_email!, mark) };
  };
  const expired = { event: "code.expired", detail: { result: "expired", purpose: "password-reset" } };

  it("an expired code on the open flow: one code.expired line, counted", async () => {
    const user = await addUser(t.deps, { email: "expired.open@dealer.example" });
    const a = await started(user);
    t.clock.advance(16 * MINUTE);
    expect(await completePasswordReset(t.deps, a.state, form(a.code), ctx())).toEqual({ kind: "code-refused" });
    expect(await trail(user)).toEqual({ lines: [expired], counted: 1 });
  });

  it("the expired code again once another flow's code reset the password: code.expired again, not no-code", async () => {
    const user = await addUser(t.deps, { email: "expired.ended@dealer.example" });
    const a = await started(user);
    t.clock.advance(16 * MINUTE);
    expect(await completePasswordReset(t.deps, a.state, form(a.code), ctx())).toEqual({ kind: "code-refused" });
    const b = await started(user);
    expect(await completePasswordReset(t.deps, b.state, form(b.code), ctx())).toEqual({ kind: "reset" });
    expect(await completePasswordReset(t.deps, a.state, form(a.code), ctx())).toEqual({ kind: "code-refused" });
    expect(await trail(user)).toEqual({ lines: [expired, expired], counted: 1 });
  });

  it("a flow ended by another flow's code before its own code was typed: void, as sign-in says, not no-code", async () => {
    const user = await addUser(t.deps, { email: "void.ended@dealer.example" });
    const a = await started(user);
    const b = await started(user);
    expect(await completePasswordReset(t.deps, b.state, form(b.code), ctx())).toEqual({ kind: "reset" });
    expect(await completePasswordReset(t.deps, a.state, form(a.code), ctx())).toEqual({ kind: "code-refused" });
    expect(await trail(user)).toEqual({ lines: [{ event: "code.failed", detail: { result: "void", purpose: "password-reset" } }], counted: 1 });
  });
});
