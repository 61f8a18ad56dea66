import { describe, expect, it } from "vitest";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

/**
 * "Reset OTP email" submitted twice at once (a double click, two support staff on one ticket, two
 * instances): the second is the reset of an account that has no address any more, as when it comes
 * later. On PostgreSQL both read the account before either committed, so both told the old address
 * and both audited it as the address reset.
 */
describe.each(DIALECTS)("two resets of one user's OTP email at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "resettwice");

  it("tell the old address once, and the trail says the second found no address", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a, { fullName: "Jane Smith", partnerNumber: "01234" });
    const operator = { user: null, audit: { actor: "operator", ip: null, userAgent: null } };
    const request = { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-7" };
    const outcomes = await Promise.all([a, b].map((deps) => resetOtpEmail(deps, operator, user.id, request)));
    expect(outcomes.map((o) => (o.kind === "reset" ? o.previousEmail : o.kind)).sort()).toEqual([user.otp_email, null].sort());
    const told = await a.db.selectFrom("outbox").select("recipient").where("user_id", "=", user.id).where("kind", "=", "notice.email-reset").execute();
    expect(told).toEqual([{ recipient: user.otp_email }]);
    const trail = await a.db.selectFrom("audit").select("detail").where("event", "=", "email.reset").where("subject", "=", user.login_id).execute();
    expect(trail.map((r) => (JSON.parse(r.detail) as { previousEmail: string | null }).previousEmail).sort()).toEqual([user.otp_email, null].sort());
  });
});
