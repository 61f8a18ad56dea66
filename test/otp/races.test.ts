import { describe, expect, it } from "vitest";
import { startPasswordReset } from "../support/password-reset.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

/**
 * SPEC Regenerate: "at most … 10 per account per hour, counting every code sent". Each code is made
 * for its own flow, so the flow's cap (one conditional update) does not hold the account's: twenty
 * "Forgot password?" requests for one login ID at once — no password needed, so anyone can send
 * them — each read "fewer than ten this hour" on PostgreSQL before any of the others committed, and
 * the inbox got twenty codes. Sign-ins at once with the last codes of the hour left did the same.
 */
describe.each(DIALECTS)("codes asked for one account at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "otprace");

  it("twenty password resets at once send the reset's share of FAMOS_OTP_PER_HOUR (half), no more", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const perHour = a.config.otp.perHour;
    expect(perHour).toBe(10);
    await Promise.all(Array.from({ length: 20 }, (_, i) => startPasswordReset(i % 2 ? b : a, user.login_id, { ip: `198.51.100.${i}`, userAgent: "race-test" })));
    const codes = await a.db.selectFrom("codes").select("id").where("user_id", "=", user.id).execute();
    expect(codes).toHaveLength(perHour / 2);
    const mails = await a.db.selectFrom("outbox").select("id").where("user_id", "=", user.id).where("kind", "like", "code.%").execute();
    expect(mails).toHaveLength(perHour / 2);
  });

  it("four sign-ins at once with two codes left this hour: two are sent, the other two told the hourly cap", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const { perHour } = a.config.otp;
    // Spent by sign-ins: the self-service reset's codes stop at half the hour's (otp/codes.ts hourCap).
    for (let i = 0; i < perHour - 2; i += 1) await passwordStep(a, { loginId: user.login_id, password: user.password }, { ip: "198.51.100.1", userAgent: "race-test" });
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, (_, i) => passwordStep(i % 2 ? b : a, { loginId: user.login_id, password: user.password }, { ip: `198.51.100.${30 + i}`, userAgent: "race-test" })),
    );
    const issued = outcomes.map((o) => (o.kind === "code" ? o.issued.kind : o.kind));
    expect(issued.sort()).toEqual(["hour-cap", "hour-cap", "sent", "sent"]);
    expect(await a.db.selectFrom("codes").select("id").where("user_id", "=", user.id).execute()).toHaveLength(perHour);
  });
});
