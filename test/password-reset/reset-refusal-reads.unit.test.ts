import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { logStatements } from "../support/statement-log.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/** The statement that looks an account up by its login ID (findUserByLogin). */
const BY_LOGIN = /from "users" where "login_key" = \?/i;

/**
 * The reset's refusal looks the login ID up only for the line it writes (the trail keeps the login ID typed
 * only when an account has it: typedLoginSubject). "spent" writes no line (refuseProof), so it reads nothing
 * for one: before, every refusal of a finished flow read the account by its login ID first. That refusal
 * needs the flow's used code, so it tells nothing about who exists; the lines that tell a stranger's try
 * (an unknown login ID, a wrong code, an ended flow) still read it, and alike (answer-first.test,
 * self-reset.test's enumeration cases).
 */
describe("the reset's refusal reads the account only for its line (unit tier)", () => {
  const unit = useUnitDeps();
  const ctx = { ip: "203.0.113.150", userAgent: "reset-refusal-reads", deviceTokens: [] };
  const form = (code: string) => ({ code, newPassword: "read only what is written", confirmNewPassword: "read only what is written" });

  it("another code on a flow its code finished: no line, no read by login ID; the used code again: its line, with its read", async () => {
    const user = await addUser(unit.deps, { email: "refusal.reads@dealer.example" });
    const state = await startPasswordReset(unit.deps, user.login_id, ctx);
    const code = await outboxMailbox(unit.db).code(user.otp_email!, 0);
    expect(await completePasswordReset(unit.deps, state, form(code), ctx)).toEqual({ kind: "reset" });
    const other = code === "000000" ? "111111" : "000000";
    const log = logStatements();
    try {
      const spent = await log.record(async () => expect(await completePasswordReset(unit.deps, state, form(other), ctx)).toEqual({ kind: "code-refused" }));
      expect(spent.filter((s) => BY_LOGIN.test(s))).toEqual([]);
      expect(spent.some((s) => /^insert into "audit"/i.test(s.trim()))).toBe(false);
      const used = await log.record(async () => expect(await completePasswordReset(unit.deps, state, form(code), ctx)).toEqual({ kind: "code-refused" }));
      expect(used.filter((s) => BY_LOGIN.test(s))).toHaveLength(1);
    } finally {
      log.stop();
    }
    expect((await queryAudit(unit.db, { subject: user.login_id, event: "code.reused" })).map((r) => r.actor)).toEqual([user.login_id]);
  });
});
