import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import { identifyDevice } from "../regulation/devices.ts";
import { attemptSucceeded, attemptVoid, reserveAttempt, type PauseScope, type Reservation } from "../regulation/throttle.ts";
import { countWrongAttempt } from "../regulation/wrong-attempt.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Database } from "../store/schema.ts";
import { undoingOnError } from "../store/rollback-point.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { loginKey, type User } from "../users/users.ts";
import { loginDigest } from "../users/login-digest.ts";
import { tellCodeReused, type ReusedCode } from "./reuse-notice.ts";

/** What a factor's own check found. "used": the right proof arriving twice — it guesses nothing. */
export type FactorVerdict<F extends { kind: string }> = { kind: "ok" } | { kind: "used" } | F;

export type SecondFactorCheck<T, F extends { kind: string }> =
  | { kind: "ok"; value: T }
  | { kind: "used" }
  /** A pause applies to this client: which one, and until when (null: until support unlocks). */
  | { kind: "locked"; scope: PauseScope; until: number | null }
  | F;

type AuditLine = Pick<AuditEntry, "event" | "detail">;

const LOST_RACE = Symbol("lost-race");

/** Thrown inside the confirming transaction to roll it back: the session ended meanwhile. */
class SessionEnded extends Error {}

/**
 * One second factor (the emailed code, a passkey, an authenticator app, a recovery code): how to
 * verify it, how to use it up, and how its outcomes are audited and counted.
 */
export interface SecondFactor<F extends { kind: string }> {
  /**
   * Checks the proof. Must not write what makes it single-use: that is `consume`'s job, in the transaction.
   * `db`: where to read and write (the reservation's transaction for a factor `verifiesInReservation`).
   */
  verify(now: number, db?: Kysely<Database>): Promise<FactorVerdict<F>>;
  /**
   * Verified inside the one transaction that reserves the attempt and, when right, confirms it (issue 17:
   * one commit fewer per step). Only for a `verify` that awaits nothing but `db`'s statements: on SQLite
   * the transaction holds the one writer, so a hash on the thread pool or a network call inside it would
   * hold every other request's writes. Without it, the reservation commits before `verify` starts.
   */
  verifiesInReservation?: boolean;
  /**
   * Inside the confirming transaction: makes the proof single-use (finishes the flow, stores the step,
   * marks the code) with a conditional write. "used" when that write lost to another request with the
   * same proof: nothing was written, and the proof counts as used, not as confirmed. Each factor must
   * say which (no `void`): a lost race that answered nothing was once taken for a confirmation.
   */
  consume(tx: Kysely<Database>, now: number): Promise<"consumed" | "used">;
  /** The audit line of a failure (it counts toward the lock). */
  failed(failure: F): AuditLine;
  /** The audit line of a success. */
  confirmed: AuditLine;
  /** The audit line of a proof arriving again (ASVS 2.8.5 asks that an OTP's reuse be logged); none: not audited. */
  reused?: AuditLine;
  /** Whose holder is mailed when a used proof arrives again (tellCodeReused); none: nobody is told. */
  tellReuse?: ReusedCode;
  metrics?: { failed(): void; confirmed(): void };
}

/** What the flow's use case does with a confirmed factor, inside the confirming transaction. */
export type OnConfirmed<T> = (tx: Kysely<Database>, now: number, deviceId: string | null) => Promise<T | null>;

/**
 * The one home of the second-factor rules: pause → reserve the attempt → verify → count or release →
 * audit → tell the holder of a new lock → consume and advance in one transaction (for a factor that
 * `verifiesInReservation`, the transaction that reserved the attempt). Every failure of
 * every second factor counts toward the same "code" lock (NIST SP 800-63B 5.2.2): a thief cannot
 * get more guesses by switching between the emailed code, the app and recovery codes. A success
 * gives its reservation back inside the transaction that uses the proof up, so a confirmation is
 * never half written. A null from `confirmed` (the session ended meanwhile: its user ended it from
 * another browser, or support) answers "used" and rolls the whole confirmation back, the factor's own
 * writes included: an ended session has no more say (ASVS 3.3.1), so it neither confirms an
 * authenticator app nor switches the OTP email.
 */
export async function checkSecondFactor<T, F extends { kind: string }>(
  deps: Deps,
  user: User,
  factor: SecondFactor<F>,
  ctx: RequestContext,
  confirmed: OnConfirmed<T>,
): Promise<SecondFactorCheck<T, F>> {
  const now = deps.clock.now();
  const key = loginKey(user.login_id);
  const entry = (line: AuditLine): AuditEntry => ({ ...line, actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
  const audit = (db: Kysely<Database>, line: AuditLine) => recordAudit(db, now, entry(line));

  const deviceId = await identifyDevice(deps, ctx.deviceTokens ?? [], key, now, ctx.deviceReads);
  const subject = { loginKey: loginDigest(deps.keys, key), ip: ctx.ip, deviceId };
  // The user's row first, then the proof's: the order of a support reset or a new enrolment address
  // (the user, then the codes), so on PostgreSQL one waits for the other instead of a deadlock.
  const userFirst = (tx: Kysely<Database>) => takeTurnsOn(tx, deps.dialect, { table: "users", id: user.id });
  /** The confirmation's writes; LOST_RACE (nothing written) when another request used the proof first. */
  const confirm = async (tx: Kysely<Database>, counted: Counted): Promise<T | typeof LOST_RACE> => {
    if ((await factor.consume(tx, now)) === "used") return LOST_RACE;
    await audit(tx, factor.confirmed);
    await attemptSucceeded(tx, counted);
    const done = await confirmed(tx, now, deviceId);
    if (done === null) throw new SessionEnded();
    return done;
  };

  let step: Step<T, F>;
  if (factor.verifiesInReservation) {
    // One transaction: the count, the verdict and, when right, the confirmation commit together. What
    // follows the count is undone alone on an error (undoingOnError), so the count commits whatever the
    // verdict led to: an error page never hides an uncounted guess. A process dying before COMMIT takes
    // the count with it, but then no answer, right or wrong, has left it.
    step = await deps.db.transaction().execute(async (tx): Promise<Step<T, F>> => {
      await userFirst(tx);
      const reservation = await reserveAttempt(tx, "code", subject, now, deps.config);
      if (!reservation.ok) return { kind: "refused", reservation };
      const after = await undoingOnError(tx, async (): Promise<Verified<T, F>> => {
        const verdict = await factor.verify(now, tx);
        return verdict.kind === "ok" ? { verdict, confirmed: { value: await confirm(tx, reservation) } } : { verdict };
      });
      return after.ok ? { kind: "verified", reservation, ...after.value } : { kind: "error", reservation, error: after.error };
    });
  } else {
    // Committed before the verification starts: parallel attempts are counted whatever they await.
    const reservation = await reserveAttempt(deps.db, "code", subject, now, deps.config);
    step = reservation.ok ? { kind: "verified", reservation, verdict: await factor.verify(now, deps.db) } : { kind: "refused", reservation };
  }
  if (step.kind === "refused") return { kind: "locked", ...step.reservation.pause };
  const { reservation } = step;
  if (step.kind === "error") return afterError(deps, reservation, step.error);

  /** A proof arriving again: neither a guess nor a success; audited, and its holder told. */
  const reused = async () => {
    await attemptVoid(deps.db, reservation);
    if (factor.reused) await audit(deps.db, factor.reused);
    if (factor.tellReuse) await tellCodeReused(deps, user, factor.tellReuse, now);
    return { kind: "used" } as const;
  };

  const { verdict } = step;
  if (verdict.kind === "used") return reused();
  if (verdict.kind !== "ok") {
    const failure = verdict as F;
    await countWrongAttempt(deps, reservation, user, entry(factor.failed(failure)), now, key);
    factor.metrics?.failed();
    return failure;
  }

  let value: T | typeof LOST_RACE;
  try {
    value =
      step.confirmed?.value ??
      (await deps.db.transaction().execute(async (tx) => {
        await userFirst(tx);
        return confirm(tx, reservation);
      }));
  } catch (error) {
    return afterError(deps, reservation, error);
  }
  // Two requests with one proof: the other one used it.
  if (value === LOST_RACE) return reused();
  factor.metrics?.confirmed();
  return { kind: "ok", value };
}

type Counted = Extract<Reservation, { ok: true }>;

/** The verdict, and the confirmation when it was written in the reservation's transaction. */
type Verified<T, F extends { kind: string }> = { verdict: FactorVerdict<F>; confirmed?: { value: T | typeof LOST_RACE } };

/** What the reservation and the verification came to (`confirmed`: in the reservation's transaction). */
type Step<T, F extends { kind: string }> =
  | { kind: "refused"; reservation: Extract<Reservation, { ok: false }> }
  | ({ kind: "verified"; reservation: Counted } & Verified<T, F>)
  | { kind: "error"; reservation: Counted; error: unknown };

/**
 * The confirmation failed: nothing of it was written. A session ended meanwhile answers "used", and as
 * the proof was right its try is given back; any other error goes on, the attempt still counted.
 */
async function afterError(deps: Deps, reservation: Counted, error: unknown): Promise<{ kind: "used" }> {
  if (!(error instanceof SessionEnded)) throw error;
  await attemptVoid(deps.db, reservation);
  return { kind: "used" };
}
