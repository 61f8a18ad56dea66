import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { cancelEmailChange, confirmEmailChange, emailChangeReplaced, startEmailChange } from "../../src/profile/email-change.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { liveCodeMails } from "../support/mailbox.ts";
import { extractCode } from "../support/smtp.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * Profile's "Cancel" on the email change's code page, when another request of the same session moved
 * it off that change first — the first Cancel of a double click, the Confirm of another tab, a newer
 * "Send code" — each behind another instance, committed the moment this Cancel has read the change as
 * open. As the other steps' double clicks (unlessMoved): the later Cancel writes nothing and answers
 * "moved". Before, it ignored setSessionStep's answer and went on: a second "code.cancelled" in the
 * trail, one beside an "email.changed" that stood, and the newer change's pending address cleared.
 */
describe.each(DIALECTS)("Cancel of a Profile email change moved on meanwhile, on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "cancel_race");
  const ctx = { ip: "192.0.2.91", userAgent: "cancel-race-test" };
  const a = () => competing.t.deps[0]!;
  const tab2 = () => competing.t.deps[1]!;

  const sessionNow = async (id: string) => (await a().db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow()) as Session;
  const events = async (user: User, event: string) => (await queryAudit(a().db, { subject: user.login_id, event })).length;
  const entry = (email: string) => ({ email, confirmEmail: email, ownMailbox: false });

  /** A session signed in with a code just now, at the code step of a change to `to`: as the Cancel's request loaded it. */
  async function changing(to: string): Promise<{ user: User; session: Session }> {
    const user = await addUser(a());
    const now = competing.t.clock.now();
    const { session: made } = await createSession(a().db, a().random, now, a().config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    await a().db.updateTable("sessions").set({ verified_at: now }).where("id", "=", made.id).execute();
    expect((await startEmailChange(a(), user, await sessionNow(made.id), { entry: entry(to), password: null }, ctx)).kind).toBe("code-sent");
    return { user, session: await sessionNow(made.id) };
  }

  /** Deps of the Cancel under test: `change` commits on the other instance once it has read its change as open. */
  const once = (session: Session, change: () => Promise<unknown>) =>
    competing.during((rows) => rows.some((row) => row.id === session.flow_id && row.finished_at === null), change);

  it("a double click: the second Cancel writes nothing, one cancellation in the trail", async () => {
    const { user, session } = await changing("jane.twice@dealer.example");
    const { deps, changed } = once(session, () => cancelEmailChange(tab2(), user, session, ctx));
    const outcome = await cancelEmailChange(deps, user, session, ctx);
    expect(changed()).toBe(true);
    expect(await events(user, "code.cancelled")).toBe(1);
    expect(await sessionNow(session.id)).toMatchObject({ stage: "full", flow_id: null });
    expect(await findUserById(a().db, user.id)).toMatchObject({ otp_email: user.otp_email, pending_email: null });
    expect(outcome).toEqual({ kind: "moved" });
  });

  // The other half of a double click on PostgreSQL: the second click's request loaded the session (still at
  // the change) before the first Cancel committed, and read the change after it (ended). Its answer is
  // "none open" — Profile with nothing said — not "a change in another browser or tab replaced it": the
  // session this request loaded points to a change that ended, but the session's row no longer does.
  // Before, one double click in about 60 under load said "replaced" (email-change.test.ts, flaky).
  it("a double click whose second Cancel read the change only after the first committed: none open, not 'replaced'", async () => {
    const { user, session } = await changing("jane.late@dealer.example");
    expect(await cancelEmailChange(tab2(), user, session, ctx)).toEqual({ kind: "cancelled" });
    // `session` is the row as the second click's request loaded it, before the first Cancel committed.
    expect(await cancelEmailChange(a(), user, session, ctx)).toEqual({ kind: "no-change" });
    expect(await emailChangeReplaced(a(), user, session)).toBe(false);
    expect(await events(user, "code.cancelled")).toBe(1);
  });

  // The words' own case stays: a change elsewhere ended this one and the session still points to it.
  it("a newer change in another browser ended this one: 'replaced', for the request loaded before and after", async () => {
    const { user, session } = await changing("jane.old.tab@dealer.example");
    const other = await browser(user);
    expect((await startEmailChange(tab2(), user, other, { entry: entry("jane.new.tab@dealer.example"), password: null }, ctx)).kind).toBe("code-sent");
    expect(await emailChangeReplaced(a(), user, session)).toBe(true);
    expect(await emailChangeReplaced(a(), user, await sessionNow(session.id))).toBe(true);
  });

  it("Confirm in another tab first: the change stands, and Cancel writes no cancellation beside it", async () => {
    const to = "jane.confirmed@dealer.example";
    const { user, session } = await changing(to);
    const [mail] = await liveCodeMails(a().db, user.id);
    const confirm = async () => expect(await confirmEmailChange(tab2(), user, session, extractCode(mail!.text_body), ctx)).toMatchObject({ kind: "changed" });
    const { deps, changed } = once(session, confirm);
    const outcome = await cancelEmailChange(deps, user, session, ctx);
    expect(changed()).toBe(true);
    expect(await events(user, "email.changed")).toBe(1);
    expect(await events(user, "code.cancelled")).toBe(0);
    expect(await findUserById(a().db, user.id)).toMatchObject({ otp_email: to, pending_email: null });
    expect(outcome).toEqual({ kind: "moved" });
  });

  it("a newer Send code in another tab first: its change stays pending, with its code", async () => {
    const { user, session } = await changing("jane.first@dealer.example");
    const newer = "jane.second@dealer.example";
    const { deps, changed } = once(session, () => startEmailChange(tab2(), user, session, { entry: entry(newer), password: null }, ctx));
    const outcome = await cancelEmailChange(deps, user, session, ctx);
    expect(changed()).toBe(true);
    expect(await events(user, "code.cancelled")).toBe(0);
    expect(await findUserById(a().db, user.id)).toMatchObject({ otp_email: user.otp_email, pending_email: newer });
    const now = await sessionNow(session.id);
    expect((await liveCodeMails(a().db, user.id)).map((m) => m.flow_id)).toEqual([now.flow_id]);
    expect(outcome).toEqual({ kind: "moved" });
  });

  /** A second browser of the user, signed in with a code just now. */
  async function browser(user: User): Promise<Session> {
    const now = competing.t.clock.now();
    const { session } = await createSession(a().db, a().random, now, a().config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    await a().db.updateTable("sessions").set({ verified_at: now }).where("id", "=", session.id).execute();
    return sessionNow(session.id);
  }

  // Another browser's newer Send code ends this change (endSupersededFlows) without moving this session:
  // this Cancel, which read its change open, finds it ended once it has the user's row, and writes nothing.
  it("a newer Send code in another browser first: no cancellation recorded, its pending address stays", async () => {
    const { user, session } = await changing("jane.here@dealer.example");
    const newer = "jane.there@dealer.example";
    const other = await browser(user);
    const { deps, changed } = once(session, () => startEmailChange(tab2(), user, other, { entry: entry(newer), password: null }, ctx));
    const outcome = await cancelEmailChange(deps, user, session, ctx);
    expect(changed()).toBe(true);
    expect({ outcome, cancelled: await events(user, "code.cancelled"), pending: (await findUserById(a().db, user.id))!.pending_email })
      .toEqual({ outcome: { kind: "no-change" }, cancelled: 0, pending: newer });
    expect((await liveCodeMails(a().db, user.id)).map((m) => m.flow_id)).toEqual([(await sessionNow(other.id)).flow_id]);
  });

  // The same mailbox in other case in another browser keeps both changes open (addressKey): cancelling
  // one leaves the other's address pending, the newest open change's, which its code confirms.
  it("the same mailbox in other case open in another browser: Cancel here leaves that change's address pending", async () => {
    const { user, session } = await changing("Case.New@dealer.example");
    const other = await browser(user);
    expect((await startEmailChange(a(), user, other, { entry: entry("case.new@dealer.example"), password: null }, ctx)).kind).toBe("code-sent");
    expect(await cancelEmailChange(a(), user, session, ctx)).toEqual({ kind: "cancelled" });
    expect((await findUserById(a().db, user.id))!.pending_email).toBe("case.new@dealer.example");
    expect((await liveCodeMails(a().db, user.id)).map((m) => m.flow_id)).toEqual([(await sessionNow(other.id)).flow_id]);
  });

  it("the other way round: the newest change cancelled, the older one open for the same mailbox is the pending address", async () => {
    const { user } = await changing("case.old@dealer.example");
    const other = await browser(user);
    expect((await startEmailChange(a(), user, other, { entry: entry("Case.Old@dealer.example"), password: null }, ctx)).kind).toBe("code-sent");
    expect(await cancelEmailChange(a(), user, await sessionNow(other.id), ctx)).toEqual({ kind: "cancelled" });
    expect((await findUserById(a().db, user.id))!.pending_email).toBe("case.old@dealer.example");
  });

  // Support's reset or Sign out elsewhere ends the session after this request loaded it: Cancel has no
  // more say (inLiveSession) and answers signed-out, as the other steps do, not "moved".
  it("the session ended meanwhile (Sign out elsewhere): signed-out, nothing written", async () => {
    const { user, session } = await changing("jane.gone@dealer.example");
    const { deps, changed } = once(session, () => tab2().db.updateTable("sessions").set({ ended_at: competing.t.clock.now(), end_reason: "signout" }).where("id", "=", session.id).execute());
    const outcome = await cancelEmailChange(deps, user, session, ctx);
    expect(changed()).toBe(true);
    expect({ outcome, cancelled: await events(user, "code.cancelled"), pending: (await findUserById(a().db, user.id))!.pending_email })
      .toEqual({ outcome: { kind: "signed-out" }, cancelled: 0, pending: "jane.gone@dealer.example" });
  });

  // The other way round: Confirm in another tab of the session, whose request read the change open, and the
  // Cancel commits before it compares the code. The code was voided by the user's own Cancel, not guessed:
  // the right code or a wrong one, compared with no live code, counts nothing and writes no code.failed
  // (refuseProof's "voided"), and the answer is "none open" (the route: Profile saying it was cancelled).
  // Before, "void": counted 1, one code.failed, and Profile with nothing said.
  it.each([
    ["a wrong code", (code: string) => (code === "000000" ? "111111" : "000000")],
    ["the right code", (code: string) => code],
  ])("Confirm read the change before the Cancel committed, %s: nothing counted, none open", async (_name, typed) => {
    const { user, session } = await changing("jane.voided@dealer.example");
    const [mail] = await liveCodeMails(a().db, user.id);
    const { deps, changed } = once(session, () => cancelEmailChange(tab2(), user, session, ctx));
    const outcome = await confirmEmailChange(deps, user, session, typed(extractCode(mail!.text_body)), ctx);
    expect(changed()).toBe(true);
    const info = await accountLockInfo(a(), user.login_key, competing.t.clock.now());
    expect({ outcome, counted: info.codeFailures, failed: await events(user, "code.failed"), cancelled: await events(user, "code.cancelled") })
      .toEqual({ outcome: { kind: "no-change" }, counted: 0, failed: 0, cancelled: 1 });
    expect(await findUserById(a().db, user.id)).toMatchObject({ otp_email: user.otp_email, pending_email: null });
  });

  // A newer change in another browser ended it instead (endSupersededFlows) after Confirm read it open: voided
  // too, by the user's own request, so nothing counted either, and the session still points to it ("replaced").
  it("Confirm read the change before a newer change in another browser ended it: nothing counted, 'replaced'", async () => {
    const { user, session } = await changing("jane.superseded@dealer.example");
    const [mail] = await liveCodeMails(a().db, user.id);
    const other = await browser(user);
    const { deps, changed } = once(session, () => startEmailChange(tab2(), user, other, { entry: entry("jane.newest@dealer.example"), password: null }, ctx));
    const outcome = await confirmEmailChange(deps, user, session, extractCode(mail!.text_body), ctx);
    expect(changed()).toBe(true);
    const info = await accountLockInfo(a(), user.login_key, competing.t.clock.now());
    expect({ outcome, counted: info.codeFailures, failed: await events(user, "code.failed"), replaced: await emailChangeReplaced(a(), user, session) })
      .toEqual({ outcome: { kind: "no-change" }, counted: 0, failed: 0, replaced: true });
  });
});
