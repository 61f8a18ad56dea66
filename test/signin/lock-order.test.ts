import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { endUserSessions, createSession } from "../../src/session/sessions.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { takeTurnsOn } from "../../src/store/take-turns.ts";
import { addUser } from "../support/app.ts";
import { useRacers } from "../store/dialects.ts";

/**
 * The sign-in's first-code step takes the user's row before it ends the browser's previous session
 * (takeTurnsOn's one order of locks), as a support reset, a disable or a new enrolment address do:
 * they take the user's row, then end her sessions. Had the sign-in ended the replaced session first
 * and only then reached the user's row (the code's hourly count takes it), each would hold what the
 * other waits for, and PostgreSQL would end one with "deadlock detected" — an error page. A race of
 * the two met that order in 1 round of 40; this test puts the two in that order every time: the
 * other side holds the user's row, the sign-in runs until it waits for a lock, and only then the other
 * side ends the user's sessions. PostgreSQL only: SQLite's one writer runs the two one after another.
 */
describe("the sign-in's first-code step and a holder of the user's row on postgres", () => {
  const race = useRacers("postgres", "lockorder");

  it("the sign-in waits for the user's row before it touches the session it replaces: neither deadlocks", { timeout: 30_000 }, async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const ctx = { ip: "198.51.100.7", userAgent: "lock-order-test" };
    const now = race.now();
    const previous = await createSession(a.db, a.random, now, a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });

    let signIn: Promise<unknown> | null = null;
    await b.db.transaction().execute(async (tx) => {
      // A support reset's order: the user's row first …
      await takeTurnsOn(tx, b.dialect, { table: "users", id: user.id });
      const holder = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
      signIn = passwordStep(a, { loginId: user.login_id, password: user.password, replaces: { sessionId: previous.session.id, loginId: user.login_id } }, ctx).then(
        (outcome) => outcome,
        (error: unknown) => error,
      );
      await waitUntilBlockedBy(b, holder);
      // … then her sessions, the replaced one among them.
      await endUserSessions(tx, user.id, now, "otp-email-reset");
    });

    const outcome = await signIn!;
    expect(outcome instanceof Error ? String(outcome) : (outcome as { kind: string }).kind).toBe("code");
    const live = await a.db.selectFrom("sessions").select(["id", "stage"]).where("user_id", "=", user.id).where("ended_at", "is", null).execute();
    expect(live.map((s) => s.stage)).toEqual(["otp"]);
  });
});

/** Until another backend waits for a lock that `holder` has (pg_blocking_pids), polled without a clock of ours. */
async function waitUntilBlockedBy(deps: { db: import("kysely").Kysely<import("../../src/store/schema.ts").Database> }, holder: number): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where ${holder} = any(pg_blocking_pids(pid))`.execute(deps.db);
    if (waiting.rows[0]!.n > 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error("the sign-in never waited for the user's row");
}
