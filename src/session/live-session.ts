import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import type { Database } from "../store/schema.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import type { User } from "../users/users.ts";
import { sessionStillLive, type Session } from "./sessions.ts";

/** A change whose session ended while it was on its way: nothing changed; the user signs in again. */
export type SignedOut = { kind: "signed-out" };

/**
 * A step whose session another request of it (a double click) moved on first: nothing written, no
 * code sent, so the code the first mailed stays the one that confirms; the browser follows the
 * session (red team 2026-12-07: the second click mailed its own code and left the first's live for a
 * flow no session pointed to).
 */
export type Moved = { kind: "moved" };

/**
 * Thrown inside a step's transaction to roll back all it wrote and answer `{ kind }` instead
 * (rolledBackAs): an outcome found only after a write that must not stay ("Later" found none left once
 * the session was moved on, rollout/grace.ts). The one way a step gives up whole with an outcome.
 */
export class RollBack<K extends string> extends Error {
  constructor(readonly kind: K) {
    super(kind);
  }
}

/** Thrown inside a step's transaction when its session was moved on meanwhile, to roll it all back (unlessMoved). */
export class NotMoved extends RollBack<"moved"> {
  constructor() {
    super("moved");
  }
}

/** A step's transaction, or `{ kind }` of the RollBack of one of `kinds` it threw, all it wrote rolled back. */
export async function rolledBackAs<T, K extends string>(step: Promise<T>, kinds: readonly K[]): Promise<T | { kind: K }> {
  try {
    return await step;
  } catch (error) {
    if (error instanceof RollBack && (kinds as readonly string[]).includes(error.kind)) return { kind: error.kind as K };
    throw error;
  }
}

/** A step's transaction, rolled back whole and answered "moved" when it threw NotMoved. */
export function unlessMoved<T>(step: Promise<T>): Promise<T | Moved> {
  return rolledBackAs(step, ["moved"] as const);
}

/**
 * The writes of a request made in a session — a change on Profile (a passkey added or removed, the
 * app set up or removed, new recovery codes), a code sent (sendCode) — in one transaction, made only
 * while the session that asks is live. The session was loaded with the request, and a fresh proof's
 * argon2id, a WebAuthn verification or an address's review came since: a session its user ended from
 * another browser, or support ended (an OTP email reset, a disable), has no more say (ASVS 3.3.1).
 * The user's row first, then the session's (the one order of locks, store/take-turns.ts).
 */
export async function inLiveSession<T>(deps: Deps, user: User, session: Pick<Session, "id">, work: (tx: Kysely<Database>) => Promise<T>): Promise<{ value: T } | SignedOut> {
  return deps.db.transaction().execute(async (tx) => {
    await takeTurnsOn(tx, deps.dialect, { table: "users", id: user.id });
    if (!(await sessionStillLive(tx, deps.dialect, session.id))) return { kind: "signed-out" as const };
    return { value: await work(tx) };
  });
}
