import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { addUser } from "../support/app.ts";
import { liveCodeMails } from "../support/mailbox.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { extractCode } from "../support/smtp.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * Another code typed while the reset's right code is used and its flow not yet finished: the winner holds
 * between its use (spendCode) and its finish (the hash, then the transaction that sets the password). The
 * loser's matchCode finds no live code and a used one that is not the code typed ("spent"): no code of the
 * flow is live, so nothing is guessed — refused, nothing counted, no code.failed and no code.reused, as
 * after the finish (explainMissingCode) and as checkCode refuses it (commit 54612c80).
 */
describe.each(DIALECTS)("another code while the reset's code is used, its flow not yet finished, on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "resetspent");
  const a = () => competing.t.deps[0]!;
  const b = () => competing.t.deps[1]!;
  const winnerCtx = { ip: "192.0.2.65", userAgent: "reset-spent-winner", deviceTokens: [] };
  const loserCtx = { ip: "192.0.2.66", userAgent: "reset-spent-loser", deviceTokens: [] };

  it("refused, no line, nothing counted; the winner then resets", async () => {
    const user = await addUser(a(), { email: "spent.reset@dealer.example" });
    const state = await startPasswordReset(a(), user.login_id, winnerCtx);
    const [mail] = await liveCodeMails(a().db, user.id);
    const code = extractCode(mail!.text_body);
    const other = code.slice(0, -1) + String((Number(code.slice(-1)) + 1) % 10);
    const codeRow = await a().db.selectFrom("codes").select("id").where("user_id", "=", user.id).executeTakeFirstOrThrow();
    const events = async (event: string) => (await queryAudit(a().db, { subject: user.login_id, event })).length;
    const counted = async () => {
      const info = await accountLockInfo(a(), user.login_key, a().clock.now());
      return info.reset.failures + info.codeFailures;
    };
    let loser: unknown;
    let seen: unknown;
    // The winner's use of the code (the conditional update that returns the code's id alone) commits; the
    // loser's whole request runs before the winner goes on to its hash and its finish.
    const racing = competing.during(
      (rows) => rows.length === 1 && Object.keys(rows[0]!).length === 1 && rows[0]!.id === codeRow.id,
      async () => {
        // The winner's own try is reserved and in flight here: the loser's must add nothing to it.
        const before = await counted();
        const form = { code: other, newPassword: "the loser's choice 66", confirmNewPassword: "the loser's choice 66" };
        loser = await completePasswordReset(b(), state, form, loserCtx);
        seen = { failed: await events("code.failed"), reused: await events("code.reused"), counted: (await counted()) - before };
      },
    );
    const form = { code, newPassword: "the winner's choice 65", confirmNewPassword: "the winner's choice 65" };
    expect(await completePasswordReset(racing.deps, state, form, winnerCtx)).toEqual({ kind: "reset" });
    expect(racing.changed()).toBe(true);
    expect(loser).toEqual({ kind: "code-refused" });
    expect(seen).toEqual({ failed: 0, reused: 0, counted: 0 });
    expect({ failed: await events("code.failed"), reused: await events("code.reused"), reset: await events("password.reset"), counted: await counted() }).toEqual({
      failed: 0,
      reused: 0,
      reset: 1,
      counted: 0,
    });
  });
});
