import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";

/**
 * A colleague who can read the OTP mailbox (a shared dealership inbox) asks "Forgot password?" for
 * someone else's login ID and keeps the code. The owner, told by the mail, changes her password on
 * Profile. Her change must end the pending reset: the code, issued for the account as it was, must
 * not replace the password she has just chosen (nor end her sessions) within its 15 minutes.
 */
describe("a password changed while a reset's code is pending", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self" } });
  });
  afterAll(async () => t?.close());

  const stamp = Date.now().toString(36);

  it("Profile → change password voids the reset's code: the colleague's reset is refused, the owner's new password and session stay", async () => {
    const email = `shared.${stamp}@dealer.example`;
    const owner = await addUser(t.deps, { loginId: `owner.${stamp}`, email });
    const colleague = new FormClient(t.app);
    await colleague.get("/forgot-password");
    const before = t.smtp.messages.length;
    await colleague.post("/forgot-password", { loginId: owner.login_id });
    await t.app.afterReply.settled();
    const code = await nextCode(t.smtp, email, before);

    const mine = new FormClient(t.app);
    await signInFully(mine, t.smtp, owner);
    await mine.get("/profile");
    const chosen = "my own new password now";
    const changed = await mine.post("/profile/password", { currentPassword: owner.password, newPassword: chosen, confirmNewPassword: chosen });
    expect(changed.statusCode).toBe(303);
    // The reset's code itself is voided, not only its flow finished: no code of hers is live (her own
    // sign-in's was used), so none is mailed late or counted as a working code.
    const live = await t.deps.db.selectFrom("codes").select(["id", "void_reason"]).where("user_id", "=", owner.id).where("consumed_at", "is", null).where("voided_at", "is", null).execute();
    expect(live).toEqual([]);

    await colleague.get("/forgot-password/code");
    const taken = "the colleague's password";
    const reset = await colleague.post("/forgot-password/code", { code, newPassword: taken, confirmNewPassword: taken });
    expect(reset.headers.location).not.toBe("/login?reset=1");
    expect(await queryAudit(t.deps.db, { subject: owner.login_id, event: "password.reset" })).toEqual([]);
    expect((await submitPassword(new FormClient(t.app), owner.login_id, chosen)).headers.location).toBe("/otp");
    expect((await submitPassword(new FormClient(t.app), owner.login_id, taken)).statusCode).toBe(401);
    expect((await mine.get("/profile")).statusCode).toBe(200);
  });
});
