import { describe, expect, it } from "vitest";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import { verifyPassword } from "../../src/password/hash.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { changePassword } from "../../src/profile/password-change.ts";
import { createSession } from "../../src/session/sessions.ts";
import type { Acting } from "../../src/support/acting.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const BY_RESET = "chosen by the reset 1";
const BY_PROFILE = "chosen on profile 22";
const operator: Acting = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/**
 * "Forgot password?" raced (two requests at once) against the other changes of the same account: each
 * pair ends in one consistent account, never a mixture (a reset's password set after the change that
 * should have voided its code).
 */
describe("the password reset raced against the account's other changes (unit tier)", () => {
  const unit = useUnitDeps();
  const now = () => unit.clock.now();
  const ctx = (): RequestContext => ({ ip: "198.51.100.9", userAgent: "race" });
  const passwordIs = async (userId: string, password: string) => (await verifyPassword((await findUserById(unit.db, userId))!.password_hash, password)).ok;
  const form = (code: string) => ({ code, newPassword: BY_RESET, confirmNewPassword: BY_RESET });

  it("with Profile's password change at the same instant: exactly one of them sets the password", async () => {
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(unit.deps);
      const { session } = await createSession(unit.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
      const state = await startPasswordReset(unit.deps, user.login_id, ctx());
      const code = await outboxMailbox(unit.db).code(user.otp_email!, 0);
      const [reset, changed] = await Promise.all([
        completePasswordReset(unit.deps, state, form(code), ctx()),
        changePassword(unit.deps, user, session, { currentPassword: user.password, newPassword: BY_PROFILE, confirmNewPassword: BY_PROFILE }, ctx()),
      ]);
      const won = [reset.kind === "reset", changed.kind === "changed"];
      expect(won.filter(Boolean), `round ${round}: ${reset.kind}, ${changed.kind}`).toHaveLength(1);
      expect(await passwordIs(user.id, reset.kind === "reset" ? BY_RESET : BY_PROFILE)).toBe(true);
    }
  });

  it("with support's OTP email reset at the same instant: the reset by a code mailed to the removed address either came first or changes nothing", async () => {
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(unit.deps);
      const state = await startPasswordReset(unit.deps, user.login_id, ctx());
      const code = await outboxMailbox(unit.db).code(user.otp_email!, 0);
      const identity = { name: user.full_name, loginId: user.login_id, partnerNumber: user.partner_number, ticket: `INC-${round}` };
      const [reset, support] = await Promise.all([completePasswordReset(unit.deps, state, form(code), ctx()), resetOtpEmail(unit.deps, operator, user.id, identity)]);
      expect(support.kind).toBe("reset");
      const after = (await findUserById(unit.db, user.id))!;
      expect(after.otp_email).toBeNull();
      expect(await passwordIs(user.id, reset.kind === "reset" ? BY_RESET : user.password)).toBe(true);
      // Whichever came first, no session or live code outlives support's reset.
      expect(await unit.db.selectFrom("sessions").select("id").where("user_id", "=", user.id).where("ended_at", "is", null).execute()).toEqual([]);
      expect(await unit.db.selectFrom("codes").select("id").where("user_id", "=", user.id).where("voided_at", "is", null).where("consumed_at", "is", null).execute()).toEqual([]);
    }
  });
  it("the same code sent again once the first request has reset the password (a double click that arrives late, or the loser of two instances a moment behind): refused, and nothing counts as a wrong code", async () => {
    // Seen in CI on PostgreSQL under load (reset-two-instances): the loser read the flow after the winner had
    // finished it, so it took the right code for a wrong one: a code.failed line and a try on the reset counter.
    const user = await addUser(unit.deps);
    const state = await startPasswordReset(unit.deps, user.login_id, ctx());
    const code = await outboxMailbox(unit.db).code(user.otp_email!, 0);
    expect((await completePasswordReset(unit.deps, state, form(code), ctx())).kind).toBe("reset");
    // Every counter with a failure on it (the reservation of a refused try leaves its row at 0 when given back).
    const tries = () => unit.db.selectFrom("throttles").select(["key", "failures"]).where("failures", ">", 0).orderBy("key").execute();
    const before = await tries();
    expect((await completePasswordReset(unit.deps, state, { code, newPassword: "the late one's choice", confirmNewPassword: "the late one's choice" }, ctx())).kind).toBe("code-refused");
    expect(await passwordIs(user.id, BY_RESET)).toBe(true);
    const failed = await unit.db.selectFrom("audit").select("event").where("event", "=", "code.failed").where("subject", "in", [user.login_id, user.login_key]).execute();
    expect(failed).toEqual([]);
    expect(await tries()).toEqual(before);
  });
});
