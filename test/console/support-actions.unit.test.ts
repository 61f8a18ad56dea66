import { loginCounterKey } from "../support/login-counter.ts";
import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import type { Acting } from "../../src/support/acting.ts";
import { checkIdentifiedRequest } from "../../src/support/identified-request.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { checkOptionalTicket, checkTicket, TICKET_MAX_LENGTH } from "../../src/support/ticket.ts";
import { translateSaid } from "../../src/i18n/translator.ts";
import { unlockAccount } from "../../src/support/unlock.ts";
import { unlockAddressBy } from "../../src/support/address-locks.ts";
import { createSession } from "../../src/session/sessions.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;
const operator: Acting = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const as = (user: User): Acting => ({ user, audit: { actor: user.login_id, ip: "192.0.2.9", userAgent: "console" } });
const identity = (user: User) => ({ name: user.full_name, loginId: user.login_id, partnerNumber: user.partner_number });

/** Support's Unlock and OTP email reset (SPEC item 8), called as the console and the CLI call them. */
describe("support actions: unlock and OTP email reset (unit tier)", () => {
  const unit = useUnitDeps();
  const now = unit.now;
  const db = () => unit.deps.db;
  const reload = async (id: string) => (await findUserById(db(), id))!;
  const put = (key: string, failures: number, lockedUntil = 0, hard = false) =>
    db().insertInto("throttles").values({ key, failures, locked_until: lockedUntil, hard_locked: hard ? 1 : 0, updated_at: now(), window_started_at: 0 }).execute();
  const device = (id: string, loginKey: string) => db().insertInto("devices").values({ id, login_key: loginKey, created_at: now(), last_used_at: now(), revoked_at: null }).execute();
  const throttleKeys = async () => (await db().selectFrom("throttles").select("key").execute()).map((r) => r.key);
  const session = async (userId: string) =>
    (await createSession(db(), unit.deps.random, now(), unit.deps.config.session, { userId, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" })).session.id;
  const sessionRow = (id: string) => db().selectFrom("sessions").select(["ended_at", "end_reason"]).where("id", "=", id).executeTakeFirstOrThrow();

  describe("unlockAccount", () => {
    it("clears the login ID's counters and its devices', audits what was in force, and leaves others' alone", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const user = await addUser(unit.deps);
      const other = await addUser(unit.deps);
      await put(loginCounterKey("password", user.login_key), 3);
      await put(loginCounterKey("code", user.login_key), 10, 0, true);
      await device("d-locked", user.login_key);
      await device("d-open", user.login_key);
      await device("d-past", user.login_key);
      await put("password:dev:d-locked", 5, now() + MINUTE);
      await put("code:dev:d-open", 1);
      await put("password:dev:d-past", 5, now());
      await put(loginCounterKey("password", other.login_key), 4, now() + MINUTE);
      expect(await unlockAccount(unit.deps, as(support), user)).toEqual({ kind: "unlocked", wasLocked: true });
      expect(await throttleKeys()).toEqual([loginCounterKey("password", other.login_key)]);
      const [event] = await queryAudit(db(), { subject: user.login_id, event: "unlock" });
      expect(event).toMatchObject({ time: now(), actor: support.login_id, ip: "192.0.2.9", userAgent: "console" });
      expect(event!.detail).toEqual({ wasLocked: true, permanent: true, passwordFailures: 3, codeFailures: 10, resetFailures: 0, devicesLocked: 1 });
    });

    it("says whether a lock was in force: a device lock alone counts, failures without a lock do not; audited either way", async () => {
      const user = await addUser(unit.deps);
      expect(await unlockAccount(unit.deps, operator, user)).toEqual({ kind: "unlocked", wasLocked: false });
      const [clean] = await queryAudit(db(), { subject: user.login_id, event: "unlock" });
      expect(clean).toMatchObject({ actor: "operator:test", detail: { wasLocked: false, permanent: false, passwordFailures: 0, codeFailures: 0, resetFailures: 0, devicesLocked: 0 } });

      await put(loginCounterKey("password", user.login_key), 2);
      await device("only-device", user.login_key);
      await put("code:dev:only-device", 5, now() + MINUTE);
      expect(await unlockAccount(unit.deps, operator, user)).toEqual({ kind: "unlocked", wasLocked: true });
      expect((await queryAudit(db(), { subject: user.login_id, event: "unlock" }))[0]!.detail).toEqual({ wasLocked: true, permanent: false, passwordFailures: 2, codeFailures: 0, resetFailures: 0, devicesLocked: 1 });

      await put(loginCounterKey("password", user.login_key), 5, now() + MINUTE);
      expect(await unlockAccount(unit.deps, operator, user)).toEqual({ kind: "unlocked", wasLocked: true });
      expect((await queryAudit(db(), { subject: user.login_id, event: "unlock" }))[0]!.detail).toMatchObject({ wasLocked: true, permanent: false, devicesLocked: 0 });

      await put(loginCounterKey("password", user.login_key), 4);
      // A device with failures but no lock in force (none, or one that has ended) is no lock either.
      await put("code:dev:only-device", 4);
      await put("password:dev:only-device", 5, now());
      expect(await unlockAccount(unit.deps, operator, user)).toEqual({ kind: "unlocked", wasLocked: false });
      expect((await queryAudit(db(), { subject: user.login_id, event: "unlock" }))[0]!.detail).toEqual({ wasLocked: false, permanent: false, passwordFailures: 4, codeFailures: 0, resetFailures: 0, devicesLocked: 0 });
    });

    it("refuses support on an administrator and anyone on their own account, changing and auditing nothing", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const admin = await addUser(unit.deps, { role: "admin" });
      await put(loginCounterKey("password", admin.login_key), 5, now() + MINUTE);
      await put(loginCounterKey("password", support.login_key), 5, now() + MINUTE);
      expect(await unlockAccount(unit.deps, as(support), admin)).toMatchObject({ kind: "forbidden", reason: "admin-account" });
      expect(await unlockAccount(unit.deps, as(support), support)).toMatchObject({ kind: "forbidden", reason: "own-account" });
      expect(await throttleKeys()).toEqual(expect.arrayContaining([loginCounterKey("password", admin.login_key), loginCounterKey("password", support.login_key)]));
      for (const who of [admin, support]) expect(await queryAudit(db(), { subject: who.login_id, event: "unlock" })).toEqual([]);
      await db().deleteFrom("throttles").execute();
    });
  });

  describe("unlockAddressBy", () => {
    it("as Unlock does: audited whether or not a lock was in force, with detail.wasLocked; failures without a lock, or a lock ended, are no lock", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const lastEvent = async () => (await queryAudit(db(), { event: "address.unlocked" }))[0];
      expect(await unlockAddressBy(unit.deps, operator, "203.0.113.81")).toEqual({ kind: "unlocked", address: "203.0.113.81", lifted: null });
      expect(await lastEvent()).toMatchObject({ actor: "operator:test", subject: null, detail: { address: "203.0.113.81", wasLocked: false, failures: 0 } });

      await put("ip:203.0.113.82", 7);
      expect(await unlockAddressBy(unit.deps, as(support), "203.0.113.82")).toMatchObject({ kind: "unlocked", lifted: { failures: 7, lockedUntil: null } });
      expect(await lastEvent()).toMatchObject({ actor: support.login_id, detail: { address: "203.0.113.82", wasLocked: false, failures: 7 } });

      await put("ip:203.0.113.83", 50, now());
      await unlockAddressBy(unit.deps, operator, "203.0.113.83");
      expect((await lastEvent())!.detail).toEqual({ address: "203.0.113.83", wasLocked: false, failures: 50 });

      await put("ip:203.0.113.84", 50, now() + MINUTE);
      await unlockAddressBy(unit.deps, operator, "203.0.113.84");
      expect((await lastEvent())!.detail).toEqual({ address: "203.0.113.84", wasLocked: true, failures: 50 });
      expect(await throttleKeys()).not.toContain("ip:203.0.113.84");
      expect(await queryAudit(db(), { event: "address.unlocked" })).toHaveLength(4);
    });
  });

  describe("checkIdentifiedRequest: a request made with the identity form (OTP email reset, temporary password)", () => {
    it("refuses by role before anything else, then names the fields that do not match", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const admin = await addUser(unit.deps, { role: "admin", fullName: "Ada Admin", partnerNumber: "00042" });
      const user = await addUser(unit.deps, { fullName: "Jane Smith", partnerNumber: "01234" });
      const wrong = { name: "x", loginId: "y", partnerNumber: "z", ticket: "" };
      expect(checkIdentifiedRequest(as(support), admin, wrong, "reset")).toMatchObject({ ok: false, kind: "forbidden", reason: "admin-account" });
      expect(checkIdentifiedRequest(as(support), support, { ...identity(support), ticket: "T-1" }, "reset")).toMatchObject({ ok: false, kind: "forbidden", reason: "own-account" });
      const message = (list: string, verb: string) => `The ${list} ${verb} not match the account. Check the request with the user; nothing was changed.`;
      expect(checkIdentifiedRequest(as(support), user, { ...identity(user), name: "Jane Smyth", ticket: "T-1" }, "reset")).toEqual({ ok: false, kind: "mismatch", fields: ["name"], message: message("name", "does") });
      expect(checkIdentifiedRequest(as(support), user, { ...identity(user), partnerNumber: "1234", ticket: "T-1" }, "reset")).toEqual({ ok: false, kind: "mismatch", fields: ["partnerNumber"], message: message("partner number", "does") });
      expect(checkIdentifiedRequest(as(support), user, { ...identity(user), name: "x", loginId: "y", ticket: "T-1" }, "reset")).toEqual({ ok: false, kind: "mismatch", fields: ["name", "loginId"], message: message("name and login ID", "do") });
      expect(checkIdentifiedRequest(operator, user, { ...wrong, ticket: "T-1" }, "reset")).toEqual({ ok: false, kind: "mismatch", fields: ["name", "loginId", "partnerNumber"], message: message("name, login ID and partner number", "do") });
    });

    it("says a wrong ticket along with the fields that do not match, so a form can say every problem at once; the message stays the mismatch's", async () => {
      const user = await addUser(unit.deps, { fullName: "Jane Smith", partnerNumber: "01234" });
      const ticket = `Enter the ticket reference of the request (1 to ${TICKET_MAX_LENGTH} characters).`;
      const message = "The name and partner number do not match the account. Check the request with the user; nothing was changed.";
      const request = { ...identity(user), name: "Jane Smyth", partnerNumber: "1234", ticket: "  " };
      expect(checkIdentifiedRequest(as(await addUser(unit.deps, { role: "support" })), user, request, "reset")).toEqual({ ok: false, kind: "mismatch", fields: ["name", "partnerNumber"], ticketProblem: ticket, message });
      expect(checkIdentifiedRequest(operator, user, { ...request, ticket: "INC\u202e1" }, "password")).toMatchObject({ kind: "mismatch", ticketProblem: "The ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)." });
      // A matching request with a wrong ticket is refused for the ticket alone; a right ticket adds nothing.
      expect(checkIdentifiedRequest(operator, user, { ...identity(user), ticket: "" }, "reset")).toEqual({ ok: false, kind: "ticket", message: ticket });
      expect(checkIdentifiedRequest(operator, user, { ...request, ticket: "T-1" }, "reset")).toEqual({ ok: false, kind: "mismatch", fields: ["name", "partnerNumber"], message });
    });

    it("checks a temporary password's request under acting.ts's rule for \"password\": support may reset a peer support account, not set its password", async () => {
      const [support, peer, admin] = [await addUser(unit.deps, { role: "support" }), await addUser(unit.deps, { role: "support" }), await addUser(unit.deps, { role: "admin" })];
      const request = { ...identity(peer), ticket: "T-2" };
      expect(checkIdentifiedRequest(as(support), peer, request, "reset")).toEqual({ ok: true, ticket: "T-2" });
      expect(checkIdentifiedRequest(as(support), peer, { ...request, name: "x" }, "password")).toMatchObject({ ok: false, kind: "forbidden", reason: "support-account" });
      expect(checkIdentifiedRequest(as(admin), peer, request, "password")).toEqual({ ok: true, ticket: "T-2" });
      expect(checkIdentifiedRequest(operator, peer, request, "password")).toEqual({ ok: true, ticket: "T-2" });
    });

    it("needs a ticket of 1 to 64 characters without control characters (C0, DEL and C1, as a login ID), kept trimmed", async () => {
      const user = await addUser(unit.deps);
      const check = (ticket: string) => checkIdentifiedRequest(operator, user, { ...identity(user), ticket }, "reset");
      const refused = { ok: false, kind: "ticket", message: `Enter the ticket reference of the request (1 to ${TICKET_MAX_LENGTH} characters).` };
      expect(TICKET_MAX_LENGTH).toBe(64);
      expect(check("  INC-4711 ")).toEqual({ ok: true, ticket: "INC-4711" });
      expect(check("T".repeat(64))).toEqual({ ok: true, ticket: "T".repeat(64) });
      expect(check(` ${"T".repeat(64)} `)).toEqual({ ok: true, ticket: "T".repeat(64) });
      for (const bad of ["", "   ", "T".repeat(65), "INC\u00004711", "INC\u001f1", "INC\u007f1", "INC\n1", "a\tb", "INC\u00801", "INC\u00851", "INC\u009b2J", "INC\u009f1"]) expect(check(bad), JSON.stringify(bad)).toEqual(refused);
      expect(check("INC 4711 / Müller")).toEqual({ ok: true, ticket: "INC 4711 / Müller" });
    });
  });

  describe("the ticket reference's one rule (checkTicket, checkOptionalTicket)", () => {
    const refused = { ok: false, kind: "ticket", message: `Enter the ticket reference of the request (1 to ${TICKET_MAX_LENGTH} characters).` };
    const bad = ["T".repeat(65), "INC\u00004711", "INC\u001b[2J", "INC\u007f1", "INC\n1", "a\tb", "INC\u00801", "INC\u00851", "INC\u009b2J", "INC\u009f1"];

    it("a required ticket: 1 to 64 characters once trimmed, no C0, DEL or C1", () => {
      expect(checkTicket(" INC-4711 ")).toEqual({ ok: true, ticket: "INC-4711" });
      expect(checkTicket("T".repeat(64))).toEqual({ ok: true, ticket: "T".repeat(64) });
      for (const typed of ["", "  ", ...bad]) expect(checkTicket(typed), JSON.stringify(typed)).toEqual(refused);
    });

    it("an optional ticket: nothing or blank is no ticket; anything else obeys the same rule", () => {
      for (const none of [undefined, null, "", "   "]) expect(checkOptionalTicket(none), JSON.stringify(none)).toEqual({ ok: true, ticket: null });
      expect(checkOptionalTicket(" INC-13 ")).toEqual({ ok: true, ticket: "INC-13" });
      expect(checkOptionalTicket("T".repeat(64))).toEqual({ ok: true, ticket: "T".repeat(64) });
      for (const typed of bad) expect(checkOptionalTicket(typed), JSON.stringify(typed)).toEqual(refused);
    });

    it("refuses zero-width and bidirectional control characters (the login ID's and name's rule), required or optional", () => {
      // U+202E in "INC-77" reverses what follows it in the mail to the old address, the audit trail and terminals.
      const invisible = { ok: false, kind: "ticket", message: "The ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)." };
      for (const typed of ["INC-77\u202e", "INC\u202a77", "INC\u20667", "INC\u20697", "INC\u200e77", "INC\u200f77", "INC\u061c77", "INC\u200b77", "INC\u200d77", "INC\u206077", "INC\ufeff77"]) {
        expect(checkTicket(typed), JSON.stringify(typed)).toEqual(invisible);
        expect(checkOptionalTicket(typed), JSON.stringify(typed)).toEqual(invisible);
      }
      expect(translateSaid("de", invisible.message)).not.toBe(invisible.message);
    });
  });

  describe("resetOtpEmail", () => {
    async function withEverything(user: User) {
      const sessions = [await session(user.id), await session(user.id)];
      const flow = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email ?? "pending@dealer.example", now: now() });
      await issueCode(unit.deps, db(), flow, user.login_id, now());
      await device(`dev-${user.id}`, user.login_key);
      return { sessions, flowId: flow.id };
    }
    const liveCodes = (userId: string) => db().selectFrom("codes").select(["voided_at", "void_reason"]).where("user_id", "=", userId).execute();

    it("clears both addresses (keeping when one was last confirmed), voids the codes, finishes the flows, ends the sessions, revokes the devices, tells the old address, audits the ticket", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const user = await addUser(unit.deps);
      await db().updateTable("users").set({ pending_email: "next@dealer.example" }).where("id", "=", user.id).execute();
      const other = await addUser(unit.deps);
      const mine = await withEverything(user);
      const theirs = await withEverything(other);
      const queued = unit.queued;
      unit.clock.advance(MINUTE);
      const outcome = await resetOtpEmail(unit.deps, as(support), user.id, { ...identity(user), ticket: " INC-1 " });
      expect(outcome).toMatchObject({ kind: "reset", previousEmail: user.otp_email, sessionsEnded: 2, user: { id: user.id } });
      // When an address was last confirmed stays: the account keeps its second factor (rollout/applies.ts).
      expect(await reload(user.id)).toMatchObject({ otp_email: null, otp_email_confirmed_at: user.otp_email_confirmed_at, pending_email: null, updated_at: now() });
      expect(await liveCodes(user.id)).toEqual([{ voided_at: now(), void_reason: "reset" }]);
      expect(await db().selectFrom("flows").select("finished_at").where("id", "=", mine.flowId).executeTakeFirst()).toEqual({ finished_at: now() });
      for (const id of mine.sessions) expect(await sessionRow(id)).toEqual({ ended_at: now(), end_reason: "reset" });
      expect(await db().selectFrom("devices").select("revoked_at").where("login_key", "=", user.login_key).execute()).toEqual([{ revoked_at: now() }]);
      const mail = await db().selectFrom("outbox").select(["recipient", "text_body"]).where("user_id", "=", user.id).where("kind", "=", "notice.email-reset").execute();
      expect(mail).toHaveLength(1);
      expect(mail[0]!.recipient).toBe(user.otp_email);
      expect(mail[0]!.text_body).toContain("INC-1");
      expect(unit.queued).toBe(queued + 1);
      const [event] = await queryAudit(db(), { subject: user.login_id, event: "email.reset" });
      expect(event).toMatchObject({ time: now(), actor: support.login_id, ip: "192.0.2.9", userAgent: "console" });
      expect(event!.detail).toEqual({ ticket: "INC-1", previousEmail: user.otp_email, pendingEmail: "next@dealer.example", sessionsEnded: 2 });
      // Nothing of anyone else's.
      expect(await reload(other.id)).toMatchObject({ otp_email: other.otp_email });
      expect(await liveCodes(other.id)).toEqual([{ voided_at: null, void_reason: null }]);
      expect(await db().selectFrom("flows").select("finished_at").where("id", "=", theirs.flowId).executeTakeFirst()).toEqual({ finished_at: null });
      for (const id of theirs.sessions) expect(await sessionRow(id)).toEqual({ ended_at: null, end_reason: null });
      expect(await db().selectFrom("devices").select("revoked_at").where("login_key", "=", other.login_key).execute()).toEqual([{ revoked_at: null }]);
    });

    it("tells no one when there was no confirmed address (a pending one was never shown to be the user's)", async () => {
      const user = await addUser(unit.deps, { email: null });
      await db().updateTable("users").set({ pending_email: "typo@dealer.example" }).where("id", "=", user.id).execute();
      expect(await resetOtpEmail(unit.deps, operator, user.id, { ...identity(user), ticket: "INC-2" })).toMatchObject({ kind: "reset", previousEmail: null, sessionsEnded: 0 });
      expect(await reload(user.id)).toMatchObject({ pending_email: null });
      expect(await db().selectFrom("outbox").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
    });

    it("changes nothing, mails nothing and wakes no one when refused, mismatched, without a ticket, or for no such account", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const admin = await addUser(unit.deps, { role: "admin" });
      const user = await addUser(unit.deps);
      const queued = unit.queued;
      expect(await resetOtpEmail(unit.deps, operator, "no-such-user", { ...identity(user), ticket: "INC-3" })).toEqual({ kind: "not-found" });
      expect(await resetOtpEmail(unit.deps, as(support), admin.id, { ...identity(admin), ticket: "INC-3" })).toMatchObject({ ok: false, kind: "forbidden", reason: "admin-account" });
      expect(await resetOtpEmail(unit.deps, as(support), user.id, { ...identity(user), name: "Someone Else", ticket: "INC-3" })).toMatchObject({ ok: false, kind: "mismatch" });
      expect(await resetOtpEmail(unit.deps, as(support), user.id, { ...identity(user), ticket: " " })).toMatchObject({ ok: false, kind: "ticket" });
      for (const who of [admin, user]) {
        expect((await reload(who.id)).otp_email).toBe(who.otp_email);
        expect(await queryAudit(db(), { subject: who.login_id, event: "email.reset" })).toEqual([]);
        expect(await db().selectFrom("outbox").select("id").where("user_id", "=", who.id).execute()).toEqual([]);
      }
      expect(unit.queued).toBe(queued);
    });
  });
});
