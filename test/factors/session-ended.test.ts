import type { UnknownRow } from "kysely";
import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { confirmEmailChange } from "../../src/profile/email-change.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { setSessionStep } from "../../src/session/session-steps.ts";
import { endOtherSession } from "../../src/session/own-sessions.ts";
import { pendingApp, startAppSetup } from "../../src/strong-factors/authenticator-app.ts";
import { confirmAppSetup } from "../../src/strong-factors/manage.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { extractCode } from "../support/smtp.ts";
import { appCode } from "../strong-factors/helpers.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * A second factor confirmed in a session that ended while the confirmation was on its way (its user
 * ended it from another browser, after seeing a sign-in they did not know) changes nothing, as a
 * password change does not (ASVS 3.3.1): checkSecondFactor's confirming transaction used to keep what
 * the factor and the flow had written before the session was found ended — an authenticator app
 * confirmed with the secret that session was shown, or a new OTP email — and only answered "used".
 * Each test ends the session, on a second connection, at the moment the factor's check reads it.
 */
describe.each(DIALECTS)("a session ended while its second factor is confirmed on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "factor_ended");
  const ctx = { ip: "192.0.2.80", userAgent: "factor-ended-test" };

  async function signedIn(user: User): Promise<Session> {
    const a = competing.t.deps[0]!;
    const { session } = await createSession(a.db, a.random, competing.t.clock.now(), a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    return session;
  }

  /** The user's other browser, ending `session` from its Profile tab, when a result `when` picks comes back. */
  function endedWhen(user: User, session: Session, when: (rows: UnknownRow[]) => boolean) {
    return competing.during(when, async () => {
      const a = competing.t.deps[1]!;
      const other = await createSession(a.db, a.random, competing.t.clock.now(), a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
      if ((await endOtherSession(a, user, other.session, session.id, ctx)).kind !== "ended") throw new Error("not ended");
    });
  }

  it("the authenticator app's setup: the app stays unconfirmed, and no recovery codes are made", async () => {
    const user = await addUser(competing.t.deps[0]!);
    const session = await signedIn(user);
    await startAppSetup(competing.t.deps[0]!, user, session, ctx);
    const code = await appCode((await pendingApp(competing.t.deps[0]!, user, session))!.secret, competing.t.clock.now());
    const { deps, changed } = endedWhen(user, session, (rows) => rows.some((row) => "secret" in row && "last_step" in row));
    const outcome = await confirmAppSetup(deps, user, session, code, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "used" });
    const app = await competing.t.deps[0]!.db.selectFrom("authenticator_apps").select("confirmed_at").where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(app.confirmed_at).toBeNull();
    expect(await competing.t.deps[0]!.db.selectFrom("recovery_codes").select("user_id").where("user_id", "=", user.id).execute()).toEqual([]);
    expect(await queryAudit(competing.t.deps[0]!.db, { subject: user.login_id, event: "app.added" })).toEqual([]);
  });

  it("the new OTP email's code: the address stays as it was, and the old one is told nothing", async () => {
    const user = await addUser(competing.t.deps[0]!);
    const a = competing.t.deps[0]!;
    const flow = await createFlow(a.db, a.random, { userId: user.id, kind: "email-change", email: "new.address@dealer.example", now: competing.t.clock.now() });
    await a.db.transaction().execute((tx) => issueCode(a, tx, flow, user.login_id, competing.t.clock.now(), ctx, user));
    const session = await signedIn(user);
    await setSessionStep(a.db, session, "full", flow.id);
    const mail = await a.db.selectFrom("codes").innerJoin("outbox", "outbox.id", "codes.outbox_id").select("outbox.text_body").where("codes.flow_id", "=", flow.id).executeTakeFirstOrThrow();
    const { deps, changed } = endedWhen(user, session, (rows) => rows.some((row) => "code_hash" in row));
    const outcome = await confirmEmailChange(deps, user, { ...session, flow_id: flow.id }, extractCode(mail.text_body!), ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "used" });
    expect((await findUserById(a.db, user.id))!.otp_email).toBe(user.otp_email);
    expect(await a.db.selectFrom("outbox").select("kind").where("user_id", "=", user.id).where("kind", "=", "notice.email-changed").execute()).toEqual([]);
  });
});
