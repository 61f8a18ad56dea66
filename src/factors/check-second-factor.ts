import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import { identifyDevice } from "../regulation/devices.ts";
import { attemptSucceeded, attemptVoid, reserveAttempt, type PauseScope, type Reservation } from "../regulation/throttle.ts";
import { countWrongAttempt } from "../regulation/wrong-attempt.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Database } from "../store/schema.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { loginKey, type User } from "../users/users.ts";
import { loginDigest } from "../users/login-digest.ts";
import { tellCodeReused, type ReusedCode } from "./reuse-notice.ts";

/**
 * What a factor's own check found. "used": the right proof arriving twice — it guesses nothing. "spent":
 * the proof of this flow was used, and another was typed — no proof is live, so it guesses nothing either:
 * refused as "used", counting nothing, and not audited as a reuse (it is not the used proof). "voided": no
 * live proof was compared because the flow was voided since the request read it (checkCode: Cancel in
 * another tab ended the session) — refused as "spent" is.
 */
export type FactorVerdict<F extends { kind: string }> = { kind: "ok" } | { kind: "used" } | { kind: "spent" } | { kind: "voided" } | F;

export type SecondFactorCheck<T, F extends { kind: string }> =
  | { kind: "ok"; value: T }
  | { kind: "used" }
  /** A pause applies to this client: which one, and until when (null: until support unlocks). */
  | { kind: "locked"; scope: PauseScope; until: number | null }
  | F;

export type AuditLine = Pick<AuditEntry, "event" | "detail">;

const LOST_RACE = Symbol("lost-race");

/** Thrown inside the confirming transaction to roll it back: the session ended meanwhile. */
class SessionEnded extends Error {}

/** Thrown inside the confirming transaction to roll it back: the proof was voided meanwhile (consume's "voided"). */
class ProofVoided extends Error {}

/**
 * One second factor (the emailed code, a passkey, an authenticator app, a recovery code): how to
 * verify it, how to use it up, and how its outcomes are audited and counted.
 */
export interface SecondFactor<F extends { kind: string }> {
  /** Checks the proof. Must not write what makes it single-use: that is `consume`'s job, in the transaction. */
  verify(now: number): Promise<FactorVerdict<F>>;
  /**
   * Inside the confirming transaction: makes the proof single-use (finishes the flow, stores the step,
   * marks the code) with a conditional write. "used" when that write lost to another request with the
   * same proof: nothing was written, and the proof counts as used, not as confirmed. "voided" when it
   * lost to a request that voided the proof instead (Cancel in another tab, Regenerate, a support reset):
   * nothing written, nothing counted, and no reuse in the trail, since the proof was never used. Each
   * factor must say which (no `void`): a lost race that answered nothing was once taken for a confirmation.
   */
  consume(tx: Kysely<Database>, now: number): Promise<"consumed" | "used" | "voided">;
  /** The audit line of a failure (it counts toward the lock). */
  failed(failure: F): AuditLine;
  /** The audit line of a success. */
  confirmed: AuditLine;
  /** The audit line of a proof arriving again (ASVS 2.8.5 asks that an OTP's reuse be logged); none: not audited. */
  reused?: AuditLine;
  /** Whose holder is mailed when a used proof arrives again (tellCodeReused); none: nobody is told. */
  tellReuse?: ReusedCode;
  metrics?: { failed(): void; confirmed(): void };
  /**
   * Inside the confirming transaction, after everything else (the flow's own writes included): the
   * factor's write to key_fingerprints, if any, which is the last table a request writes
   * (src/store/key-fingerprints.ts: a start's pass locks users, then key_fingerprints; a transaction
   * that wrote them the other way round was ended by PostgreSQL with "deadlock detected").
   */
  lastly?(tx: Kysely<Database>): Promise<void>;
}

/** What the flow's use case does with a confirmed factor, inside the confirming transaction. */
export type OnConfirmed<T> = (tx: Kysely<Database>, now: number, deviceId: string | null) => Promise<T | null>;

/**
 * The one home of the second-factor rules: pause → reserve the attempt → verify → count or release →
 * audit → tell the holder of a new lock → consume and advance in one transaction. Every failure of
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
  const reservation = await reserveAttempt(deps.db, "code", { loginKey: loginDigest(deps.keys, key), ip: ctx.ip, deviceId }, now, deps.config);
  if (!reservation.ok) return { kind: "locked", ...reservation.pause };

  /** What follows a refusal (refuseProof): the reuse audited, the holder told when the factor asks; a guess counted with its line. */
  const refuse = (refusal: Refusal<F>) =>
    refuseProof(deps, reservation, now, refusal, {
      reuse: { ...(factor.reused ? { audit: entry(factor.reused) } : {}), ...(factor.tellReuse ? { tell: { user, code: factor.tellReuse } } : {}) },
      guess: (failure) => ({ entry: entry(factor.failed(failure)), user, lockSubject: key }),
      counted: () => factor.metrics?.failed(),
    });

  const verdict = await factor.verify(now);
  if (verdict.kind !== "ok") return refuse(verdict as Refusal<F>);

  let value: T | typeof LOST_RACE;
  try {
    value = await deps.db.transaction().execute(async (tx) => {
      // The user's row first, then the proof's: the order of a support reset or a new enrolment address
      // (the user, then the codes), so on PostgreSQL one waits for the other instead of a deadlock.
      await takeTurnsOn(tx, deps.dialect, { table: "users", id: user.id });
      const consumed = await factor.consume(tx, now);
      if (consumed === "used") return LOST_RACE;
      if (consumed === "voided") throw new ProofVoided();
      await audit(tx, factor.confirmed);
      await attemptSucceeded(tx, reservation);
      const done = await confirmed(tx, now, deviceId);
      if (done === null) throw new SessionEnded();
      await factor.lastly?.(tx);
      return done;
    });
  } catch (error) {
    if (!(error instanceof SessionEnded) && !(error instanceof ProofVoided)) throw error;
    // Nothing was written, the proof not used up: it was right, so its try is given back, as a proof voided under it.
    return refuse({ kind: "voided" });
  }
  // Two requests with one proof: the other one used it.
  if (value === LOST_RACE) return refuse({ kind: "used" });
  factor.metrics?.confirmed();
  return { kind: "ok", value };
}

/**
 * Why a right-looking proof, or a wrong one, was refused: one meaning of each kind for every flow, the
 * emailed code's included (checkCode, through checkSecondFactor, and the self-service reset's step 2,
 * typedCodeVerdict). "used": the used proof again (its twin, a replay, the loser of a race with it).
 * "spent": the flow's proof was used and another was typed; "voided": the right proof voided before its
 * use (the last wrong try of someone guessing at once, Cancel, Regenerate, a support reset, the session
 * ended meanwhile). Anything else is the factor's failure: a guess.
 */
export type Refusal<F extends { kind: string }> = { kind: "used" } | { kind: "spent" } | { kind: "voided" } | F;

/** What a reuse writes and whom it tells (refuseReusedProof). */
type Reuse = { audit?: AuditEntry; tell?: { user: User; code: ReusedCode } };
/** What a guess writes, whose holder is told of a lock it starts, and the login ID a lock is audited under (refuseProof). */
type Guess = { entry: AuditEntry; user: User | undefined; lockSubject?: string };

/**
 * The one home of what follows a refusal, for every second factor (checkSecondFactor) and the reset's code
 * (completePasswordReset): "used" is refused as a reuse (refuseReusedProof: the try given back, the reuse's
 * line, the holder told when the factor asks); "spent" and "voided" guess nothing, so they are refused
 * counting nothing and writing no line; a failure is a guess, counted toward the lock with its line
 * (countWrongAttempt). The answer: "used" for the three that guess nothing (one answer, which tells the
 * client nothing more), else the failure.
 */
export async function refuseProof<F extends { kind: string }>(
  deps: Deps,
  reservation: Extract<Reservation, { ok: true }>,
  now: number,
  refusal: Refusal<F>,
  how: {
    /** The reuse's line and whom to tell, or how to make them when it is one (the reset reads who the login ID is only then). */
    reuse: Reuse | (() => Promise<Reuse>);
    /** A guess's line, the account whose holder is told of a lock it starts, and the login ID a lock is audited under. */
    guess: (failure: F) => Guess | Promise<Guess>;
    counted?: () => void;
  },
): Promise<{ kind: "used" } | F> {
  switch (refusal.kind) {
    case "used":
      await refuseReusedProof(deps, reservation, now, typeof how.reuse === "function" ? await how.reuse() : how.reuse);
      return { kind: "used" };
    case "spent":
    case "voided":
      await refuseReusedProof(deps, reservation, now, {});
      return { kind: "used" };
    default: {
      const failure = refusal as F;
      const guess = await how.guess(failure);
      await countWrongAttempt(deps, reservation, guess.user, guess.entry, now, guess.lockSubject);
      how.counted?.();
      return failure;
    }
  }
}

/**
 * A proof arriving again (ASVS 2.8.5: an OTP's reuse is logged and refused): neither a guess nor a success.
 * The one home of what follows, for every second factor (checkSecondFactor) and the reset's code
 * (completePasswordReset), both through refuseProof: the try it reserved given back, the reuse in the trail (`audit`; the emailed
 * code's line is codeReusedLine), and the holder told when the factor asks (`tell`: tellCodeReused, capped).
 * Not capped in the trail: a line needs the used proof and a request that got past the route's limit
 * (FAMOS_RATE_LIMIT a minute per address) and the login ID's reservations (at most FAMOS_LOCK_AFTER in flight).
 */
export async function refuseReusedProof(deps: Deps, reservation: Extract<Reservation, { ok: true }>, now: number, reuse: Reuse): Promise<void> {
  await attemptVoid(deps.db, reservation);
  if (reuse.audit) await recordAudit(deps.db, now, reuse.audit);
  if (reuse.tell) await tellCodeReused(deps, reuse.tell.user, reuse.tell.code, now);
}
