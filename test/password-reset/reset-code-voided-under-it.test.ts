import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { voidUserCodes } from "../../src/otp/codes.ts";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { addUser } from "../support/app.ts";
import { liveCodeMails } from "../support/mailbox.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { extractCode } from "../support/smtp.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * The reset's right code voided between its match and its use — the last wrong try of someone guessing at
 * once, a support reset of the OTP email — lost to a void, not to its twin: the code was never used. As
 * checkCode answers it (consume "voided"): refused, nothing counted, no code.reused. Before, the reset took
 * any failed use for "used" and wrote a code.reused for a code nobody used.
 */
describe.each(DIALECTS)("the reset's right code voided under it, on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "resetvoided");
  const a = () => competing.t.deps[0]!;
  const b = () => competing.t.deps[1]!;
  const ctx = { ip: "192.0.2.64", userAgent: "reset-voided", deviceTokens: [] };

  it("refused, no code.reused, no code.failed, nothing counted, the password unchanged", async () => {
    const user = await addUser(a(), { email: "voided.reset@dealer.example" });
    const state = await startPasswordReset(a(), user.login_id, ctx);
    const [mail] = await liveCodeMails(a().db, user.id);
    const code = extractCode(mail!.text_body);
    // The reset's read that returns the code's row (matchCode) waits for a support reset's void to commit.
    const racing = competing.during(
      (rows) => rows.some((r) => "code_hash" in r),
      () => voidUserCodes(b().db, user.id, "email-reset", b().clock.now()),
    );
    const form = { code, newPassword: "chosen while voided 64", confirmNewPassword: "chosen while voided 64" };
    expect(await completePasswordReset(racing.deps, state, form, ctx)).toEqual({ kind: "code-refused" });
    expect(racing.changed()).toBe(true);
    const events = async (event: string) => (await queryAudit(a().db, { subject: user.login_id, event })).length;
    const info = await accountLockInfo(a(), user.login_key, a().clock.now());
    expect({ reused: await events("code.reused"), failed: await events("code.failed"), reset: await events("password.reset"), counted: info.reset.failures + info.codeFailures }).toEqual({
      reused: 0,
      failed: 0,
      reset: 0,
      counted: 0,
    });
  });
});
