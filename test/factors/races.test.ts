import { describe, expect, it } from "vitest";
import { issueCode } from "../../src/otp/codes.ts";
import { cancelEmailChange, confirmEmailChange, startEmailChange } from "../../src/profile/email-change.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { confirmCode } from "../../src/signin/code-step.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";
import { everyCode } from "../support/scripted-codes.ts";

/**
 * The user types her code while support resets her OTP email (SPEC item 8): one of the two goes
 * first, and the reset holds — no session is left signed in, and neither side gets an error page.
 * On PostgreSQL the confirmation used the code up and then wrote the user's row, while the reset wrote
 * the user's row and then voided her codes: each waited for the other's lock, and PostgreSQL ended one
 * of them with "deadlock detected" (a 500) in about a third of the rounds. A few milliseconds of
 * jitter on the reset's start vary which statements meet.
 */
describe.each(DIALECTS)("a code confirmed while support resets the OTP email on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "resetrace");

  it("twenty rounds: each side answers, and no session of the user is left live", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    const operator = { user: null, audit: { actor: "operator", ip: null, userAgent: null } };
    for (let round = 0; round < 20; round += 1) {
      const user = await addUser(a, { fullName: "Jane Smith", partnerNumber: "01234" });
      const ctx = { ip: `198.51.100.${round}`, userAgent: "race-test" };
      const now = race.now();
      const session = await a.db.transaction().execute(async (tx) => {
        const flow = await createFlow(tx, a.random, { userId: user.id, kind: "signin", email: user.otp_email!, now });
        await issueCode({ ...a, random: everyCode(123_456) }, tx, flow, user.login_id, now);
        return (await createSession(tx, a.random, now, a.config.session, { userId: user.id, stage: "otp", flowId: flow.id, ...ctx })).session;
      });
      const jitter = Math.floor(Math.random() * 6);
      const outcomes = await Promise.allSettled([
        confirmCode(a, user, session, "123456", ctx),
        new Promise((resolve) => setTimeout(resolve, jitter)).then(() =>
          resetOtpEmail(b, operator, user.id, { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: `INC-${round}` }),
        ),
      ]);
      expect(outcomes.flatMap((o) => (o.status === "rejected" ? [String(o.reason)] : []))).toEqual([]);
      const live = await a.db.selectFrom("sessions").select("id").where("user_id", "=", user.id).where("ended_at", "is", null).execute();
      expect(live).toEqual([]);
    }
  });
});

/**
 * Profile's email change confirmed in one tab while another tab of the same session sends a code to
 * another address, or cancels: one goes first, and neither gets an error page. Voiding the flow's code
 * before writing the user's row was the order of a confirmation before it took the user's row first
 * (above); once it did, these two had to take it first as well (sendCode, cancelEmailChange), or
 * PostgreSQL ended one of them with "deadlock detected" in a third of the rounds.
 */
describe.each(DIALECTS)("an email change confirmed while its session starts another or cancels on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "ecrace");
  const entry = (email: string) => ({ entry: { email, confirmEmail: email, ownMailbox: true }, password: null });

  for (const other of ["another start", "a cancel"] as const) {
    it(`twenty rounds against ${other}: each side answers`, { timeout: 60_000 }, async () => {
      const [a, b] = await race.pair();
      for (let round = 0; round < 20; round += 1) {
        const user = await addUser(a);
        const ctx = { ip: `198.51.100.${round}`, userAgent: "race-test" };
        const now = race.now();
        const made = await createSession(a.db, a.random, now, a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
        await a.db.updateTable("sessions").set({ verified_at: now }).where("id", "=", made.session.id).execute();
        const started = await startEmailChange({ ...a, random: everyCode(123_456) }, user, { ...made.session, verified_at: now }, entry(`new${round}@dealer.example`), ctx);
        expect(started.kind).toBe("code-sent");
        const session: Session = await a.db.selectFrom("sessions").selectAll().where("id", "=", made.session.id).executeTakeFirstOrThrow();
        const jitter = Math.floor(Math.random() * 6);
        const outcomes = await Promise.allSettled([
          confirmEmailChange(a, user, session, "123456", ctx),
          new Promise((resolve) => setTimeout(resolve, jitter)).then(async () => {
            if (other === "a cancel") await cancelEmailChange(b, user, session, ctx);
            // After the confirmation moved the session on, the start is rolled back ("moved"): nothing written.
            else expect(["code-sent", "moved"]).toContain((await startEmailChange(b, user, session, entry(`other${round}@dealer.example`), ctx)).kind);
          }),
        ]);
        expect(outcomes.flatMap((o) => (o.status === "rejected" ? [String(o.reason)] : []))).toEqual([]);
      }
    });
  }
});
