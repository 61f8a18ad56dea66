import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lapsedFullSessions } from "../../src/session/lapsed-sessions.ts";
import { createSession, endSession, type Stage } from "../../src/session/sessions.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";

const MINUTE = 60_000;

/**
 * The read behind the proxied WebSockets' recheck (src/web/websocket-sessions.ts): of many session
 * ids, which no longer carry a full sign-in, and why, in statements of a bounded number of ids. A
 * busy instance holds more open sockets than one statement's ids; every one of them is answered.
 */
describe.each(["sqlite", "postgres"] as const)("lapsedFullSessions (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  async function session(stage: Stage = "full", userId?: string) {
    const id = userId ?? (await addUser(t.deps)).id;
    const { session } = await createSession(t.deps.db, t.deps.random, t.clock.now(), t.deps.config.session, { userId: id, stage, flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    return session.id;
  }

  it("answers for every id of 1,201 read in statements of 500: live ones not at all, the rest with why", async () => {
    const live = [await session(), await session(), await session()];
    const ended = await session();
    await endSession(t.deps.db, ended, t.clock.now(), "signout");
    const stepped = await session("otp");
    const unknown = Array.from({ length: 1_196 }, (_, i) => `no-such-session-${i}`);
    // The live and lapsed ones spread over the three statements: the first id, one in the middle, the last.
    const ids = [live[0]!, ...unknown.slice(0, 598), ended, live[1]!, stepped, ...unknown.slice(598), live[2]!];
    expect(ids).toHaveLength(1_201);
    const lapsed = await lapsedFullSessions(t.deps.db, ids, t.clock.now(), t.deps.config.session);
    expect(lapsed.size).toBe(1_198);
    for (const id of live) expect(lapsed.has(id)).toBe(false);
    expect(lapsed.get(ended)).toBe("signout");
    expect(lapsed.get(stepped)).toBe("not-full");
    expect(new Set(unknown.map((id) => lapsed.get(id)))).toEqual(new Set(["gone"]));
  });

  it("reads by the clock it is given, and writes nothing: an idle session is named idle and stays as it was", async () => {
    const id = await session();
    const idleMs = t.deps.config.session.idleMs;
    const later = t.clock.now() + idleMs + MINUTE;
    expect(await lapsedFullSessions(t.deps.db, [id], t.clock.now(), t.deps.config.session)).toEqual(new Map());
    expect(await lapsedFullSessions(t.deps.db, [id], later, t.deps.config.session)).toEqual(new Map([[id, "idle"]]));
    const row = await t.deps.db.selectFrom("sessions").select(["ended_at", "last_seen_at"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toEqual({ ended_at: null, last_seen_at: t.clock.now() });
    expect(await lapsedFullSessions(t.deps.db, [], later, t.deps.config.session)).toEqual(new Map());
  });
});
