import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { confirmEmailChange, startEmailChange } from "../../src/profile/email-change.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { liveCodeMails } from "../support/mailbox.ts";
import { extractCode } from "../support/smtp.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

/**
 * Profile's OTP email change started at the same moment in two sessions of one user, each behind
 * another instance (SPEC item 6, with item 2's "only the newest address entered can be confirmed").
 * Whichever commits second supersedes the first: the first's flow ends with its code, so neither its
 * code nor "Regenerate OTP" in its tab can make that address the OTP email. A sign-in code a third
 * browser of the same person waits for is not touched. Red team 2026-12-07: both changes stayed
 * open, and the first confirmed won.
 */
describe.each(DIALECTS)("two Profile email changes of one user at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "changerace");

  /** A session signed in with a code just now (no password asked for the change). */
  async function fullSession(deps: Deps, user: User, ctx: { ip: string; userAgent: string }): Promise<Session> {
    const now = race.now();
    const { session } = await createSession(deps.db, deps.random, now, deps.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    await deps.db.updateTable("sessions").set({ verified_at: now }).where("id", "=", session.id).execute();
    return { ...session, verified_at: now };
  }

  /** A third browser waiting at OTP capture with a live sign-in code to the current address. */
  async function waitingSignIn(deps: Deps, user: User): Promise<string> {
    const now = race.now();
    return deps.db.transaction().execute(async (tx) => {
      const flow = await createFlow(tx, deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now });
      const issued = await issueCode(deps, tx, flow, user.login_id, now);
      if (issued.kind !== "sent") throw new Error(`no sign-in code: ${issued.kind}`);
      return issued.codeId;
    });
  }

  const liveCodes = (deps: Deps, userId: string) =>
    deps.db.selectFrom("codes").select(["id", "email"]).where("user_id", "=", userId).where("consumed_at", "is", null).where("voided_at", "is", null).execute();
  const openChanges = (deps: Deps, userId: string) =>
    deps.db.selectFrom("flows").select(["id", "email"]).where("user_id", "=", userId).where("kind", "=", "email-change").where("finished_at", "is", null).execute();

  it("five rounds: one change is open, only its code and the sign-in's are live", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(a);
      const ctx = { ip: `198.51.100.${110 + round}`, userAgent: "race-test" };
      const sessions = [await fullSession(a, user, ctx), await fullSession(b, user, ctx)];
      const signInCode = await waitingSignIn(a, user);
      const addresses = [`${user.login_id}.one@dealer.example`, `${user.login_id}.two@dealer.example`];
      const outcomes = await Promise.all(
        [a, b].map((deps, i) => startEmailChange(deps, user, sessions[i]!, { entry: { email: addresses[i]!, confirmEmail: addresses[i]!, ownMailbox: false }, password: null }, ctx)),
      );
      expect(outcomes.map((o) => o.kind)).toEqual(["code-sent", "code-sent"]);
      const open = await openChanges(a, user.id);
      expect(open, `round ${round}`).toHaveLength(1);
      expect(addresses).toContain(open[0]!.email);
      const live = await liveCodes(a, user.id);
      expect(live.map((c) => c.email).sort(), `round ${round}`).toEqual([open[0]!.email, user.otp_email].sort());
      expect(live.map((c) => c.id)).toContain(signInCode);
    }
  });

  // Red team 2026-12-07: the second click read the session before the first committed, missed the
  // first's flow (same address, so not superseded either) and moved the session to its own: two code
  // mails, the first's code live for a flow no session pointed to, and typing it counted as a wrong code.
  it("a double click on Send code (one session, the same address, at once): one change is open, with one live code, the session's, and it confirms", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(a);
      const ctx = { ip: `198.51.100.${120 + round}`, userAgent: "race-test" };
      const session = await fullSession(a, user, ctx);
      const address = `${user.login_id}.same@dealer.example`;
      const entry = { email: address, confirmEmail: address, ownMailbox: false };
      const outcomes = await Promise.all([a, b].map((deps) => startEmailChange(deps, user, session, { entry, password: null }, ctx)));
      // The second click, finding the session moved on, writes nothing and mails nothing.
      expect(outcomes.map((o) => o.kind).sort(), `round ${round}`).toEqual(["code-sent", "moved"]);
      const open = await openChanges(a, user.id);
      expect(open, `round ${round}`).toEqual([{ id: open[0]?.id, email: address }]);
      const { flow_id: flowId } = await a.db.selectFrom("sessions").select("flow_id").where("id", "=", session.id).executeTakeFirstOrThrow();
      expect(flowId, `round ${round}`).toBe(open[0]!.id);
      expect(await a.db.selectFrom("outbox").select("id").where("recipient", "=", address).execute(), `round ${round}`).toHaveLength(1);
      const live = await liveCodeMails(a.db, user.id);
      expect(live.map((c) => c.flow_id), `round ${round}`).toEqual([flowId]);
      const confirmed = await confirmEmailChange(b, user, { ...session, flow_id: flowId }, extractCode(live[0]!.text_body), ctx);
      expect(confirmed, `round ${round}`).toMatchObject({ kind: "changed", email: address });
    }
  });
});
