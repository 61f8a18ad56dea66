import { describe, expect, it } from "vitest";
import { createFlow } from "../../src/otp/flows.ts";
import { createSession, endHalfSignedIn, endSession, type Session } from "../../src/session/sessions.ts";
import { advanceSession } from "../../src/session/session-steps.ts";
import { addUser } from "../support/app.ts";
import { recordedPostgres } from "../support/recorded-postgres.ts";
import { useUnitSessions } from "../support/unit-sessions.ts";

const MINUTE = 60_000;

/**
 * Cancel's end of a half-signed-in session (endHalfSignedIn, unit tier): "moved" only when another request
 * of it completed the sign-in first (a new token AND a second factor verified); any other step it moved on
 * to is ended by its id; an ended session is "signed-out".
 */
describe("endHalfSignedIn (unit tier)", () => {
  const unit = useUnitSessions();
  const { now, row } = unit;
  async function halfSignedIn(): Promise<Session> {
    const user = await addUser(unit.deps);
    const flow = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    const made = await createSession(unit.deps.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "otp", flowId: flow.id, ip: "192.0.2.1", userAgent: "unit" });
    return made.session;
  }
  const cancel = (session: Session, reason = "cancelled") => unit.deps.db.transaction().execute((tx) => endHalfSignedIn(tx, unit.deps.dialect, session, now(), reason));

  it("ends the session Cancel read, by its id, with the reason given, and names its flow", async () => {
    const session = await halfSignedIn();
    unit.clock.advance(MINUTE);
    expect(await cancel(session, "cancelled")).toEqual({ kind: "ended", flowId: session.flow_id });
    expect(await row(session.id)).toMatchObject({ ended_at: now(), end_reason: "cancelled" });
  });

  it("is 'moved' when a Confirm answered first (a new token, a second factor verified): the sign-in stands", async () => {
    const session = await halfSignedIn();
    const confirmed = await advanceSession(unit.deps.db, unit.deps.random, session, now(), { stage: "full", flowId: null, verifiedAt: now(), policy: unit.deps.config.session });
    expect(confirmed).not.toBeNull();
    unit.clock.advance(MINUTE);
    expect(await cancel(session)).toEqual({ kind: "moved" });
    expect(await row(session.id)).toMatchObject({ ended_at: null, end_reason: null, stage: "full" });
  });

  it("ends a session moved on without a sign-in (a new token, nothing verified: the address page sent a code), with its flow as it is now", async () => {
    const session = await halfSignedIn();
    const user = await unit.deps.db.selectFrom("users").select(["id", "otp_email"]).where("id", "=", session.user_id).executeTakeFirstOrThrow();
    const newer = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    const moved = await advanceSession(unit.deps.db, unit.deps.random, session, now(), { stage: "otp", flowId: newer.id });
    expect(moved).not.toBeNull();
    unit.clock.advance(MINUTE);
    expect(await cancel(session, "cancelled")).toEqual({ kind: "ended", flowId: newer.id });
    expect(await row(session.id)).toMatchObject({ ended_at: now(), end_reason: "cancelled" });
  });

  it("ends a session with a second factor verified whose token is still the one Cancel read (nobody else moved it)", async () => {
    const session = await halfSignedIn();
    await unit.deps.db.updateTable("sessions").set({ verified_at: now() }).where("id", "=", session.id).execute();
    expect(await cancel(session)).toEqual({ kind: "ended", flowId: session.flow_id });
    expect(await row(session.id)).toMatchObject({ ended_at: now(), end_reason: "cancelled" });
  });

  it("is 'signed-out' for a session ended meanwhile (Sign out in another tab, support): its end stays as it was", async () => {
    const session = await halfSignedIn();
    expect(await endSession(unit.deps.db, session.id, now(), "logout")).toBe(true);
    unit.clock.advance(MINUTE);
    expect(await cancel(session)).toEqual({ kind: "signed-out" });
    expect(await row(session.id)).toMatchObject({ ended_at: now() - MINUTE, end_reason: "logout" });
  });

  it("ends only its own session: another of the same user stays live", async () => {
    const session = await halfSignedIn();
    const other = await createSession(unit.deps.db, unit.deps.random, now(), unit.deps.config.session, { userId: session.user_id, stage: "full", flowId: null, ip: "192.0.2.2", userAgent: "unit" });
    expect(await cancel(session)).toMatchObject({ kind: "ended" });
    expect(await row(other.session.id)).toMatchObject({ ended_at: null });
  });

  it("on PostgreSQL, reads the session with its row taken (FOR NO KEY UPDATE), as a confirmation takes it; not on SQLite", async () => {
    const session = await halfSignedIn();
    const { db, statements } = recordedPostgres();
    expect(await db.transaction().execute((tx) => endHalfSignedIn(tx, "postgres", session, now(), "cancelled"))).toEqual({ kind: "signed-out" });
    expect(statements.map((q) => q.sql)).toEqual([expect.stringMatching(/^select .* from "sessions" where "id" = \$1 and "ended_at" is null for no key update$/)]);
    statements.length = 0;
    await db.transaction().execute((tx) => endHalfSignedIn(tx, "sqlite", session, now(), "cancelled"));
    expect(statements.map((q) => q.sql)).toEqual([expect.not.stringContaining("for no key update")]);
    await db.destroy();
  });
});
