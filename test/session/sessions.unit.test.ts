import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createFlow } from "../../src/otp/flows.ts";
import { endOtherSession } from "../../src/session/own-sessions.ts";
import { createSession, endSession, endUserSessions, listUserSessions, loadSignedIn, newToken, tokenHash, type Stage } from "../../src/session/sessions.ts";
import { advanceSession, setSessionStep } from "../../src/session/session-steps.ts";
import { addUser } from "../support/app.ts";
import { useUnitSessions } from "../support/unit-sessions.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const CTX = { ip: "192.0.2.1", userAgent: "unit" };

/** SPEC "Sessions"; ASVS 3.2.1, 3.2.2, 3.3.1, 3.3.2, 3.3.4 (unit tier). */
describe("sessions (unit tier)", () => {
  const unit = useUnitSessions();
  const { now, row } = unit;
  const policy = () => unit.deps.config.session;
  async function start(stage: Stage = "full", userId?: string) {
    const id = userId ?? (await addUser(unit.deps)).id;
    const made = await createSession(unit.deps.db, unit.deps.random, now(), policy(), { userId: id, stage, flowId: null, ip: "192.0.2.1".repeat(10), userAgent: "U".repeat(600) });
    return { ...made, userId: id };
  }
  const load = (token: string) => loadSignedIn(unit.deps.db, token, now(), policy());

  it("ASVS 3.2.2: tokens are 256 random bits (43 base64url characters), different every time", () => {
    const tokens = new Set(Array.from({ length: 100 }, () => newToken(unit.deps.random)));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("stores only the SHA-256 of the token, with the session's limits and the client cut to size", async () => {
    const { token, session } = await start();
    expect(tokenHash(token)).toBe(createHash("sha256").update(token).digest("base64url"));
    const stored = await row(session.id);
    expect(stored).toMatchObject({ token_hash: tokenHash(token), created_at: now(), last_seen_at: now(), expires_at: now() + 12 * HOUR, verified_at: null, ended_at: null, end_reason: null });
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(stored.ip).toHaveLength(64);
    expect(stored.user_agent).toHaveLength(512);
  });

  it("loads the live session with its user from the token, and nothing from a token of another length or unknown", async () => {
    const { token, session, userId } = await start();
    const loaded = await load(token);
    expect(loaded?.session.id).toBe(session.id);
    expect(loaded?.user).toMatchObject({ id: userId, login_id: expect.any(String), role: "user" });
    expect(await load(token.slice(0, 39))).toBeNull();
    expect(await load(`${token}${"x".repeat(22)}`)).toBeNull();
    expect(await load(newToken(unit.deps.random))).toBeNull();
  });

  it("looks up only tokens of 40 to 64 characters: a stored session behind a cookie of another length never opens", async () => {
    // Each token planted as a stored session's hash, so only the length rule can refuse it.
    const planted = async (token: string) => {
      const { session } = await start();
      await unit.deps.db.updateTable("sessions").set({ token_hash: tokenHash(token) }).where("id", "=", session.id).execute();
      return session.id;
    };
    for (const length of [40, 64]) {
      const token = "t".repeat(length);
      const id = await planted(token);
      expect((await load(token))?.session.id, `${length} characters`).toBe(id);
    }
    for (const length of [0, 1, 39, 65, 4096]) {
      const token = "u".repeat(length);
      await planted(token);
      expect(await load(token), `${length} characters`).toBeNull();
    }
  });

  it("never loads an ended session, even before it would idle or expire", async () => {
    const { token, session } = await start();
    await endSession(unit.deps.db, session.id, now(), "signout");
    unit.clock.advance(1000);
    expect(await load(token)).toBeNull();
    expect(await row(session.id)).toMatchObject({ end_reason: "signout", ended_at: now() - 1000 });
  });

  it("issue 11: a disabled account's live session ends at its next request, as disabled", async () => {
    const { token, session, userId } = await start();
    const other = await start();
    unit.clock.advance(1000);
    await unit.deps.db.updateTable("users").set({ disabled_at: now() }).where("id", "=", userId).execute();
    expect(await load(token)).toBeNull();
    expect(await row(session.id)).toMatchObject({ ended_at: now(), end_reason: "disabled" });
    expect((await load(other.token))?.session.id).toBe(other.session.id);
  });

  it("loads the user's saved language and time zone with the session (null when not chosen)", async () => {
    const { token, userId } = await start();
    expect((await load(token))?.user).toMatchObject({ locale: null, time_zone: null });
    await unit.deps.db.updateTable("users").set({ locale: "de-DE", time_zone: "Europe/Berlin" }).where("id", "=", userId).execute();
    expect((await load(token))?.user).toMatchObject({ locale: "de-DE", time_zone: "Europe/Berlin" });
  });

  it("ASVS 3.3.2: ends a session idle for FAMOS_SESSION_IDLE (30 min), not a millisecond before", async () => {
    const { token, session } = await start();
    unit.clock.advance(30 * MINUTE - 1);
    expect(await load(token)).not.toBeNull();
    const fresh = await start();
    unit.clock.advance(30 * MINUTE);
    expect(await load(fresh.token)).toBeNull();
    expect(await row(fresh.session.id)).toMatchObject({ ended_at: now(), end_reason: "idle" });
    expect(await load(fresh.token)).toBeNull();
    void session;
  });

  it("ASVS 3.3.1: ends a session at FAMOS_SESSION_MAX (12 h) however busy, as expired", async () => {
    const { token, session } = await start();
    for (let i = 0; i < 12 * 3 - 1; i++) {
      unit.clock.advance(20 * MINUTE);
      expect(await load(token), `after ${(i + 1) * 20} minutes`).not.toBeNull();
    }
    unit.clock.advance(20 * MINUTE - 1);
    expect(await load(token)).not.toBeNull();
    unit.clock.advance(1);
    expect(await load(token)).toBeNull();
    expect(await row(session.id)).toMatchObject({ end_reason: "expired" });
  });

  it("writes the last-seen time at most once a minute", async () => {
    const { token, session } = await start();
    const started = now();
    unit.clock.advance(MINUTE - 1);
    expect((await load(token))?.session.last_seen_at).toBe(started);
    expect((await row(session.id)).last_seen_at).toBe(started);
    unit.clock.advance(1);
    expect((await load(token))?.session.last_seen_at).toBe(now());
    expect((await row(session.id)).last_seen_at).toBe(now());
  });

  it("ASVS 3.2.1: a step up gives a new token in one update; the old token is dead, an ended session gets none", async () => {
    const { token, session } = await start("otp");
    unit.clock.advance(1000);
    const advanced = await advanceSession(unit.deps.db, unit.deps.random, session, now(), { stage: "full", flowId: null, verifiedAt: now(), policy: policy() });
    expect(advanced).not.toBeNull();
    expect(advanced!.token).not.toBe(token);
    expect(advanced!.session).toMatchObject({ stage: "full", flow_id: null, verified_at: now(), last_seen_at: now(), token_hash: tokenHash(advanced!.token) });
    expect(await row(session.id)).toMatchObject({ stage: "full", verified_at: now(), token_hash: tokenHash(advanced!.token) });
    expect(await load(token)).toBeNull();
    expect((await load(advanced!.token))?.session.stage).toBe("full");
    // Advancing from the old token (a racing second request) finds nothing.
    expect(await advanceSession(unit.deps.db, unit.deps.random, session, now(), { stage: "full", flowId: null })).toBeNull();
    const again = await advanceSession(unit.deps.db, unit.deps.random, advanced!.session, now(), { stage: "enrol", flowId: null });
    expect(again!.session.verified_at).toBe(advanced!.session.verified_at);
    // A step without a new proof keeps the stored time of the last one.
    expect((await row(session.id)).verified_at).toBe(advanced!.session.verified_at);
    await endSession(unit.deps.db, session.id, now(), "signout");
    expect(await advanceSession(unit.deps.db, unit.deps.random, again!.session, now(), { stage: "full", flowId: null })).toBeNull();
  });

  it("a code verified in a session past its end does not revive it (the wave's cut end passed between the request's load and its write)", async () => {
    const id = (await addUser(unit.deps)).id;
    const { token, session } = await createSession(unit.deps.db, unit.deps.random, now(), policy(), { userId: id, stage: "password", flowId: null, ip: CTX.ip, userAgent: CTX.userAgent, endsBy: now() + HOUR });
    expect(await load(token)).not.toBeNull();
    // The code's write comes after the end the session was given (a lock waited for, a slow relay).
    unit.clock.advance(HOUR + 1000);
    const advanced = await advanceSession(unit.deps.db, unit.deps.random, session, now(), { stage: "full", flowId: null, verifiedAt: now(), policy: policy() });
    expect(advanced).toBeNull();
    expect(await row(session.id)).toMatchObject({ expires_at: session.expires_at, verified_at: null, token_hash: tokenHash(token) });
    expect(await load(token)).toBeNull();
  });

  it("changes the step without a new token, never of an ended session", async () => {
    const { token, session } = await start("enrol");
    expect(await setSessionStep(unit.deps.db, session, "otp", null)).toBe(true);
    expect((await load(token))?.session.stage).toBe("otp");
    await endSession(unit.deps.db, session.id, now(), "signout");
    expect(await setSessionStep(unit.deps.db, session, "full", null)).toBe(false);
    expect((await row(session.id)).stage).toBe("otp");
  });

  // A double click on Profile's Send code: the second request read the session before the first moved it.
  it("changes the step only from the flow the request read the session at", async () => {
    const { session } = await start("full");
    const flows = await Promise.all(["one", "two"].map((n) => createFlow(unit.deps.db, unit.deps.random, { userId: session.user_id, kind: "email-change", email: `${n}@dealer.example`, now: now() })));
    expect(await setSessionStep(unit.deps.db, session, "full", flows[0]!.id)).toBe(true);
    expect(await setSessionStep(unit.deps.db, session, "full", flows[1]!.id)).toBe(false);
    expect((await row(session.id)).flow_id).toBe(flows[0]!.id);
    expect(await setSessionStep(unit.deps.db, { ...session, flow_id: flows[0]!.id }, "full", flows[1]!.id)).toBe(true);
    expect((await row(session.id)).flow_id).toBe(flows[1]!.id);
  });

  it("ends a session once: the second end reports false and keeps the first reason", async () => {
    const { session } = await start();
    expect(await endSession(unit.deps.db, session.id, now(), "signout")).toBe(true);
    unit.clock.advance(1000);
    expect(await endSession(unit.deps.db, session.id, now(), "replaced")).toBe(false);
    expect(await row(session.id)).toMatchObject({ end_reason: "signout", ended_at: now() - 1000 });
  });

  it("ends every live session of a user but the one asked to keep, and none of another user's", async () => {
    const first = await start();
    const second = await start("full", first.userId);
    const third = await start("otp", first.userId);
    const stranger = await start();
    expect(await endUserSessions(unit.deps.db, first.userId, now(), "password-changed", first.session.id)).toBe(2);
    expect((await row(first.session.id)).ended_at).toBeNull();
    expect(await row(second.session.id)).toMatchObject({ end_reason: "password-changed" });
    expect(await row(third.session.id)).toMatchObject({ end_reason: "password-changed" });
    expect((await row(stranger.session.id)).ended_at).toBeNull();
    expect(await endUserSessions(unit.deps.db, first.userId, now(), "support-reset")).toBe(1);
    expect(await endUserSessions(unit.deps.db, first.userId, now(), "support-reset")).toBe(0);
  });

  it("lists a user's live, fully signed-in sessions, newest first: not half-signed-in, ended, idle or expired ones", async () => {
    const oldest = await start();
    const userId = oldest.userId;
    unit.clock.advance(1000);
    const newer = await start("full", userId);
    await start("otp", userId);
    const ended = await start("full", userId);
    await endSession(unit.deps.db, ended.session.id, now(), "signout");
    await start();
    expect((await listUserSessions(unit.deps.db, userId, now(), policy())).sessions.map((s) => s.id)).toEqual([newer.session.id, oldest.session.id]);
    unit.clock.advance(30 * MINUTE - 1000);
    expect((await listUserSessions(unit.deps.db, userId, now(), policy())).sessions.map((s) => s.id)).toEqual([newer.session.id]);
    unit.clock.advance(1000);
    expect(await listUserSessions(unit.deps.db, userId, now(), policy())).toEqual({ sessions: [], more: false });
  });

  it("lists at most 50 sessions and says there are more (at 50 exactly, none more), and leaves out one past its absolute end", async () => {
    const { userId, session } = await start();
    for (let i = 0; i < 49; i++) await start("full", userId);
    const fifty = await listUserSessions(unit.deps.db, userId, now(), policy());
    expect(fifty.sessions).toHaveLength(50);
    expect(fifty.more).toBe(false);
    for (let i = 0; i < 6; i++) await start("full", userId);
    const more = await listUserSessions(unit.deps.db, userId, now(), policy());
    expect(more.sessions).toHaveLength(50);
    expect(more.more).toBe(true);
    await unit.deps.db.updateTable("sessions").set({ expires_at: now() }).where("user_id", "=", userId).execute();
    expect(await listUserSessions(unit.deps.db, userId, now(), policy())).toEqual({ sessions: [], more: false });
    void session;
  });

  it("ASVS 3.3.4: 'End' takes a session id of 1 to 64 characters; an empty or longer one ends nothing, even one stored", async () => {
    const mine = await start();
    const user = (await load(mine.token))!.user;
    // Sessions of this user planted under ids of the edge lengths, so only the length rule can refuse them.
    const planted = async (id: string) => {
      const { session } = await start("full", mine.userId);
      await unit.deps.db.updateTable("sessions").set({ id }).where("id", "=", session.id).execute();
      return id;
    };
    const empty = await planted("");
    const over = await planted("o".repeat(65));
    const longest = await planted("l".repeat(64));
    expect(await endOtherSession(unit.deps, user, mine.session, empty, CTX)).toEqual({ kind: "not-found" });
    expect(await endOtherSession(unit.deps, user, mine.session, over, CTX)).toEqual({ kind: "not-found" });
    expect((await row(empty)).ended_at).toBeNull();
    expect((await row(over)).ended_at).toBeNull();
    expect(await endOtherSession(unit.deps, user, mine.session, longest, CTX)).toEqual({ kind: "ended" });
    expect(await row(longest)).toMatchObject({ end_reason: "ended-by-user" });
  });

  it("ASVS 3.3.4: 'End' on Profile ends another live session of the same user, audited; never one's own or another user's", async () => {
    const mine = await start();
    const other = await start("full", mine.userId);
    const stranger = await start();
    const user = (await load(mine.token))!.user;
    expect(await endOtherSession(unit.deps, user, mine.session, mine.session.id, CTX)).toEqual({ kind: "not-found" });
    expect(await endOtherSession(unit.deps, user, mine.session, stranger.session.id, CTX)).toEqual({ kind: "not-found" });
    expect(await endOtherSession(unit.deps, user, mine.session, "", CTX)).toEqual({ kind: "not-found" });
    expect(await endOtherSession(unit.deps, user, mine.session, "x".repeat(65), CTX)).toEqual({ kind: "not-found" });
    expect((await row(stranger.session.id)).ended_at).toBeNull();
    expect((await row(mine.session.id)).ended_at).toBeNull();
    expect(await endOtherSession(unit.deps, user, mine.session, other.session.id, CTX)).toEqual({ kind: "ended" });
    expect(await row(other.session.id)).toMatchObject({ end_reason: "ended-by-user", ended_at: now() });
    expect(await endOtherSession(unit.deps, user, mine.session, other.session.id, CTX)).toEqual({ kind: "not-found" });
    const audit = await unit.deps.db.selectFrom("audit").selectAll().where("event", "=", "session.ended").where("subject", "=", user.login_id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: user.login_id, ip: CTX.ip });
    expect(JSON.parse(audit[0]!.detail as string)).toEqual({ by: "user", session: other.session.id.slice(0, 8) });
  });
  it("loads the session as its stored row, every column in the table's order, and the user with it but for the import's columns; with its flow when asked", async () => {
    const { token, session, userId } = await start();
    const stored = await row(session.id);
    const loaded = await load(token);
    expect(Object.keys(loaded!.session)).toEqual(Object.keys(stored));
    expect(loaded!.session).toEqual(stored);
    // Every user column but the import's two: nothing a request does reads them, and the digest of a
    // password hash (imported_hash_digest) has no place in a request's user (both optional in User).
    const { imported_hash_digest, sync_disabled_partner, ...user } = await unit.deps.db.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirstOrThrow();
    expect([imported_hash_digest, sync_disabled_partner]).toEqual([null, null]);
    expect(Object.keys(loaded!.user).sort()).toEqual(Object.keys(user).sort());
    expect(loaded!.user).toEqual(user);
    const withFlow = await loadSignedIn(unit.deps.db, token, now(), policy(), true);
    expect(Object.keys(withFlow!.session)).toEqual(Object.keys(stored));
    expect(withFlow).toEqual({ session: stored, user, flow: null });
  });
});
