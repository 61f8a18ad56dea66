import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import type { Acting } from "../../src/support/acting.ts";
import { recordAudit } from "../../src/audit/audit.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { confirmOtpEmail } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";

/**
 * Support may reset a user's OTP email and set the user's temporary password (README's table): the
 * two together hand whoever holds the password the account's next enrolment. Done in that order, the
 * temporary password's notice had no address (the reset had just cleared it) and went to nobody, so
 * the user heard only of a reset, which a ticket explains. It goes to the address the reset cleared.
 */
describe.each(["sqlite", "postgres"] as const)("a temporary password set after support reset the OTP email (%s)", (database) => {
  let t: TestApp;
  let support: Acting;
  beforeAll(async () => {
    t = await createTestApp({ database });
    const person = await addUser(t.deps, { loginId: "tpr.support", role: "support" });
    support = { user: person, audit: { actor: person.login_id, ip: "192.0.2.80", userAgent: "tpr-test" } };
  });
  afterAll(async () => t?.close());

  const notices = async (userId: string) =>
    (await t.deps.db.selectFrom("outbox").select(["recipient", "kind"]).where("user_id", "=", userId).where("kind", "like", "notice.%").execute()).map((r) => `${r.kind} ${r.recipient}`).sort();
  const request = (loginId: string) => ({ name: "Jane Smith", loginId, partnerNumber: "01234", ticket: "RITM0042" });

  it("is told to the address the reset cleared", async () => {
    const user = await addUser(t.deps, { loginId: "tpr.one", email: "tpr.one@dealer.example" });
    expect((await resetOtpEmail(t.deps, support, user.id, request("tpr.one"))).kind).toBe("reset");
    expect((await setTemporaryPassword(t.deps, support, user.id, "tmp-pass-word-4711", "RITM0042")).kind).toBe("set");
    expect(await notices(user.id)).toEqual(["notice.email-reset tpr.one@dealer.example", "notice.temporary-password tpr.one@dealer.example"]);
  });

  it("an address confirmed since the reset is the one told; an account that never had one tells nobody", async () => {
    const user = await addUser(t.deps, { loginId: "tpr.two", email: "tpr.old@dealer.example" });
    await resetOtpEmail(t.deps, support, user.id, request("tpr.two"));
    await confirmOtpEmail(t.deps.db, user.id, "tpr.new@dealer.example", t.deps.clock.now());
    await setTemporaryPassword(t.deps, support, user.id, "tmp-pass-word-4712", "RITM0043");
    expect(await notices(user.id)).toEqual(["notice.email-reset tpr.old@dealer.example", "notice.temporary-password tpr.new@dealer.example"]);

    const never = await addUser(t.deps, { loginId: "tpr.three", email: null });
    await resetOtpEmail(t.deps, support, never.id, request("tpr.three"));
    await setTemporaryPassword(t.deps, support, never.id, "tmp-pass-word-4713", "RITM0044");
    expect(await notices(never.id)).toEqual([]);
  });

  it("a second reset with nothing left to clear, and a dozen wrong passwords after it: still told to the address the first reset cleared", async () => {
    const user = await addUser(t.deps, { loginId: "tpr.four", email: "tpr.four@dealer.example" });
    await resetOtpEmail(t.deps, support, user.id, request("tpr.four"));
    t.clock.advance(60_000);
    // Support resets again (another ticket): the account has no address, so this reset cleared none.
    expect((await resetOtpEmail(t.deps, support, user.id, request("tpr.four"))).kind).toBe("reset");
    for (let i = 0; i < 12; i += 1) {
      t.clock.advance(1_000);
      await recordAudit(t.deps.db, t.deps.clock.now(), { event: "password.failed", actor: user.login_id, subject: user.login_id, ip: "203.0.113.9", userAgent: "Mozilla", detail: { reason: "wrong-password" } });
    }
    await setTemporaryPassword(t.deps, support, user.id, "tmp-pass-word-4714", "RITM0045");
    expect(await notices(user.id)).toEqual(["notice.email-reset tpr.four@dealer.example", "notice.temporary-password tpr.four@dealer.example"]);
  });
});
