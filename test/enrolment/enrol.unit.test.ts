import { describe, expect, it } from "vitest";
import { disableUser, enableUser } from "../../src/account/disable.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { enrolEmail } from "../../src/enrolment/enrol.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow, findFlow } from "../../src/otp/flows.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { createSession, tokenHash } from "../../src/session/sessions.ts";
import { sharedAddresses } from "../../src/support/attention.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const ctx: RequestContext = { ip: "192.0.2.44", userAgent: "enrol-unit" };
const entry = (email: string, ownMailbox = false) => ({ email, confirmEmail: email, ownMailbox });

/** Screen 2, "User profile" (SPEC item 2): the address stays pending until a code sent to it is confirmed. */
describe("enrolEmail (unit tier)", () => {
  const unit = useUnitDeps({ env: { FAMOS_SHARED_MAILBOX_POLICY: "warn" } });
  const now = unit.now;
  const db = () => unit.deps.db;
  const atEnrolment = async (email: string | null = null) => {
    const user = await addUser(unit.deps, { email });
    const { session } = await createSession(db(), unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "enrol", flowId: null, ip: ctx.ip, userAgent: ctx.userAgent });
    return { user, session };
  };
  const codes = (userId: string) => db().selectFrom("codes").select(["flow_id", "email", "voided_at", "void_reason"]).where("user_id", "=", userId).orderBy("created_at").execute();

  it("refuses an address the rules refuse, with the suggestion when there is one, and changes nothing", async () => {
    const { user, session } = await atEnrolment();
    expect(await enrolEmail(unit.deps, user, session, { email: "a@dealer.example", confirmEmail: "b@dealer.example", ownMailbox: false }, ctx)).toMatchObject({ kind: "invalid", problem: expect.any(String) });
    const typo = await enrolEmail(unit.deps, user, session, entry("jane@gmial.com"), ctx);
    expect(typo).toEqual({ kind: "invalid", problem: "did-you-mean", message: "Did you mean jane@gmail.com?", suggestion: "jane@gmail.com" });
    const plain = await enrolEmail(unit.deps, user, session, entry("not an address"), ctx);
    expect(plain).toMatchObject({ kind: "invalid" });
    expect("suggestion" in plain).toBe(false);
    expect(await findUserById(db(), user.id)).toMatchObject({ pending_email: null, otp_email: null });
    expect(await codes(user.id)).toEqual([]);
    expect(await queryAudit(db(), { subject: user.login_id, event: "enrolment.started" })).toEqual([]);
  });

  it("keeps the address pending, sends a code to it, moves the session to the code step with a new token, audits it", async () => {
    const { user, session } = await atEnrolment();
    const queued = unit.queued;
    const outcome = await enrolEmail(unit.deps, user, session, entry("jane.enrol@dealer.example"), ctx);
    expect(outcome).toMatchObject({ kind: "code-sent", issued: { kind: "sent" }, renewed: { token: expect.any(String), session: { id: session.id, stage: "otp" } } });
    if (outcome.kind !== "code-sent") throw new Error("no code");
    expect(unit.queued).toBe(queued + 1);
    expect(await findUserById(db(), user.id)).toMatchObject({ pending_email: "jane.enrol@dealer.example", otp_email: null, otp_email_confirmed_at: null });
    const row = await db().selectFrom("sessions").selectAll().where("id", "=", session.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ stage: "otp", token_hash: tokenHash(outcome.renewed!.token), ended_at: null });
    expect(await findFlow(db(), row.flow_id!)).toMatchObject({ kind: "enrol", user_id: user.id, email: "jane.enrol@dealer.example", finished_at: null });
    expect(await codes(user.id)).toEqual([{ flow_id: row.flow_id, email: "jane.enrol@dealer.example", voided_at: null, void_reason: null }]);
    const [event] = await queryAudit(db(), { subject: user.login_id, event: "enrolment.started" });
    expect(event).toMatchObject({ time: now(), actor: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { sharedMailbox: false } });
  });

  it("voids the codes of the addresses entered before: only the newest address entered can be confirmed", async () => {
    const { user, session } = await atEnrolment();
    const other = await atEnrolment();
    const elsewhere = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "enrol", email: "mistyped@dealer.example", now: now() });
    await issueCode(unit.deps, db(), elsewhere, user.login_id, now());
    const theirs = await createFlow(db(), unit.deps.random, { userId: other.user.id, kind: "enrol", email: "theirs@dealer.example", now: now() });
    await issueCode(unit.deps, db(), theirs, other.user.login_id, now());
    unit.clock.advance(60_000);
    await enrolEmail(unit.deps, user, session, entry("right@dealer.example"), ctx);
    const [old, current] = await codes(user.id);
    expect(old).toMatchObject({ flow_id: elsewhere.id, voided_at: now(), void_reason: "superseded" });
    expect(current).toMatchObject({ email: "right@dealer.example", voided_at: null });
    expect(await codes(other.user.id)).toEqual([expect.objectContaining({ voided_at: null })]);
  });

  it("keeps the flow and code of the same mailbox entered before in other case: addresses compare without regard to case", async () => {
    const { user, session } = await atEnrolment();
    const elsewhere = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "enrol", email: "Jane.Case@Dealer.example", now: now() });
    await issueCode(unit.deps, db(), elsewhere, user.login_id, now());
    unit.clock.advance(60_000);
    expect(await enrolEmail(unit.deps, user, session, entry("jane.case@dealer.example"), ctx)).toMatchObject({ kind: "code-sent" });
    const [earlier, current] = await codes(user.id);
    expect(earlier).toMatchObject({ flow_id: elsewhere.id, voided_at: null, void_reason: null });
    expect(current).toMatchObject({ email: "jane.case@dealer.example", voided_at: null });
    expect(await findFlow(db(), elsewhere.id)).toMatchObject({ finished_at: null });
  });

  it("says a shared mailbox kept on purpose in the audit; a session ended meanwhile gets no code and keeps nothing", async () => {
    const owner = await addUser(unit.deps, { email: "shared.desk@dealer.example" });
    const { user, session } = await atEnrolment();
    expect(await enrolEmail(unit.deps, user, session, entry("shared.desk@dealer.example"), ctx)).toMatchObject({ kind: "invalid", problem: "address-in-use" });
    expect(await enrolEmail(unit.deps, user, session, entry("shared.desk@dealer.example", true), ctx)).toMatchObject({ kind: "code-sent", renewed: { token: expect.any(String) } });
    const [event] = await queryAudit(db(), { subject: user.login_id, event: "enrolment.started" });
    expect(event!.detail).toEqual({ sharedMailbox: true });
    expect(owner.otp_email).toBe("shared.desk@dealer.example");

    const ended = await atEnrolment();
    await db().updateTable("sessions").set({ ended_at: now(), end_reason: "test" }).where("id", "=", ended.session.id).execute();
    expect(await enrolEmail(unit.deps, ended.user, ended.session, entry("ended.one@dealer.example"), ctx)).toEqual({ kind: "signed-out" });
    expect(await db().selectFrom("outbox").select("id").where("user_id", "=", ended.user.id).execute()).toEqual([]);
    expect((await db().selectFrom("users").select("pending_email").where("id", "=", ended.user.id).executeTakeFirstOrThrow()).pending_email).toBeNull();
    expect(await queryAudit(db(), { subject: ended.user.login_id, event: "enrolment.started" })).toEqual([]);
  });

  it("a leaver's address taken by the successor is no shared mailbox (the leaver signs in no more, gets no codes): no warning, as Needs attention; enabling the leaver again makes it one, and the enable says so", async () => {
    const by = { user: null, audit: { actor: "operator:test", ip: null, userAgent: null } };
    const leaver = await addUser(unit.deps, { email: "sales.desk1@dealer.example" });
    expect((await disableUser(unit.deps, by, leaver.id)).kind).toBe("disabled");
    const { user, session } = await atEnrolment();
    // Warned (and refused under "refuse") before: the leaver's account counted as another holder.
    expect(await enrolEmail(unit.deps, user, session, entry("Sales.Desk1@dealer.example"), ctx)).toMatchObject({ kind: "code-sent" });
    expect((await queryAudit(db(), { subject: user.login_id, event: "enrolment.started" }))[0]!.detail).toEqual({ sharedMailbox: false });

    // The successor confirmed it; the leaver comes back: two enabled login IDs share the mailbox now,
    // with nobody having ticked "This is my own mailbox". The enable says it, and Needs attention lists it.
    await db().updateTable("users").set({ otp_email: "sales.desk1@dealer.example", pending_email: null }).where("id", "=", user.id).execute();
    expect((await sharedAddresses(unit.deps, 10)).map((a) => a.address)).not.toContain("sales.desk1@dealer.example");
    expect(await enableUser(unit.deps, by, leaver.id)).toMatchObject({ kind: "enabled", sharedWith: 1 });
    expect((await queryAudit(db(), { subject: leaver.login_id, event: "user.enabled" }))[0]!.detail).toEqual({ sharedMailbox: true });
    expect((await sharedAddresses(unit.deps, 10)).find((a) => a.address === "sales.desk1@dealer.example")?.users.map((u) => u.id).sort()).toEqual([leaver.id, user.id].sort());
    // An enable whose address nobody else holds says nothing of it.
    const alone = await addUser(unit.deps, { email: "alone.one@dealer.example" });
    await disableUser(unit.deps, by, alone.id);
    expect(await enableUser(unit.deps, by, alone.id)).toMatchObject({ kind: "enabled", sharedWith: 0 });
    expect((await queryAudit(db(), { subject: alone.login_id, event: "user.enabled" }))[0]!.detail).toEqual({});
  });
});
