import { describe, expect, it } from "vitest";
import { enrolEmail } from "../../src/enrolment/enrol.ts";
import { confirmCode } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser } from "../support/app.ts";
import { extractCode } from "../support/smtp.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

/**
 * "User profile" in two tabs of the same user, each behind another instance, each entering another
 * address at the same moment (SPEC item 2: the address stays pending until its code is confirmed, and
 * only the newest entered can be). Whichever commits second supersedes the first: the first's flow
 * is finished with its code, so "Regenerate OTP" in its tab sends nothing more to that address.
 * Red team 2026-12-07: the superseded flow stayed open (only its code was voided), and Regenerate
 * mailed a fresh, confirmable code to the address the user had replaced.
 */
describe.each(DIALECTS)("two enrolments of one user at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "enrolrace");

  it("five rounds: one address is pending, only its flow is open, and only it has a live code", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(a, { email: null });
      const ctx = { ip: `198.51.100.${80 + round}`, userAgent: "race-test" };
      const steps = await Promise.all([a, b].map((deps) => passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx)));
      const addresses = [`${user.login_id}.one@dealer.example`, `${user.login_id}.two@dealer.example`];
      const outcomes = await Promise.all(
        [a, b].map((deps, i) => {
          const step = steps[i]!;
          if (step.kind !== "enrol") throw new Error(`expected enrolment, got ${step.kind}`);
          return enrolEmail(deps, user, step.session, { email: addresses[i]!, confirmEmail: addresses[i]!, ownMailbox: false }, ctx);
        }),
      );
      expect(outcomes.map((o) => o.kind)).toEqual(["code-sent", "code-sent"]);
      const { pending_email: pending } = await a.db.selectFrom("users").select("pending_email").where("id", "=", user.id).executeTakeFirstOrThrow();
      expect(addresses).toContain(pending);
      const open = await a.db.selectFrom("flows").select("email").where("user_id", "=", user.id).where("kind", "=", "enrol").where("finished_at", "is", null).execute();
      expect(open.map((f) => f.email), `round ${round}`).toEqual([pending]);
      const live = await a.db.selectFrom("codes").select("email").where("user_id", "=", user.id).where("consumed_at", "is", null).where("voided_at", "is", null).execute();
      expect(live.map((c) => c.email)).toEqual([pending]);
    }
  });

  // Red team 2026-12-07: the second click voided the first's code and made a flow and code of its own,
  // but could not move the session, which stayed on the first flow with no live code: neither code
  // mailed worked until Regenerate OTP.
  it("a double click on Update (one session, the same address, at once): the flow the session moved to stays open, and its live code confirms", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(a, { email: null });
      const ctx = { ip: `198.51.100.${90 + round}`, userAgent: "race-test" };
      const step = await passwordStep(a, { loginId: user.login_id, password: user.password }, ctx);
      if (step.kind !== "enrol") throw new Error(`expected enrolment, got ${step.kind}`);
      const address = `${user.login_id}.same@dealer.example`;
      const entry = { email: address, confirmEmail: address, ownMailbox: false };
      const outcomes = await Promise.all([a, b].map((deps) => enrolEmail(deps, user, step.session, entry, ctx)));
      // The second click, finding the session moved on, writes nothing and mails nothing.
      expect(outcomes.map((o) => o.kind).sort(), `round ${round}`).toEqual(["code-sent", "moved"]);
      const moved = outcomes.flatMap((o) => (o.kind === "code-sent" ? [o.renewed.session] : []));
      expect(await a.db.selectFrom("codes").select("id").where("user_id", "=", user.id).execute()).toHaveLength(1);
      const flow = await a.db.selectFrom("flows").select(["email", "finished_at"]).where("id", "=", moved[0]!.flow_id!).executeTakeFirstOrThrow();
      expect(flow).toEqual({ email: address, finished_at: null });
      const live = await a.db
        .selectFrom("codes")
        .innerJoin("outbox", "outbox.id", "codes.outbox_id")
        .select("outbox.text_body")
        .where("codes.flow_id", "=", moved[0]!.flow_id!)
        .where("codes.consumed_at", "is", null)
        .where("codes.voided_at", "is", null)
        .execute();
      expect(live, `round ${round}`).toHaveLength(1);
      expect(await confirmCode(a, user, moved[0]!, extractCode(live[0]!.text_body), ctx)).toMatchObject({ kind: "signed-in" });
    }
  });
});
