import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import { normaliseTypedCode } from "../otp/code.ts";
import { verifyCode, type VerifyOutcome } from "../otp/codes.ts";
import { finishFlow, type Flow } from "../otp/flows.ts";
import { identifyDevice } from "../regulation/devices.ts";
import { tellLockStarted } from "../regulation/lock-notice.ts";
import { attemptFailed, attemptSucceeded, attemptVoid, reserveAttempt, type PauseScope } from "../regulation/throttle.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Database } from "../store/schema.ts";
import { loginKey, type User } from "../users/users.ts";

export type CodeCheck<T> =
  | { kind: "ok"; value: T }
  | { kind: "malformed" }
  /** A pause applies to this client: which one, and until when (null: until support unlocks). */
  | { kind: "locked"; scope: PauseScope; until: number | null }
  | Exclude<VerifyOutcome, { kind: "ok" }>;

/** What the flow's use case does with a confirmed code, inside the confirming transaction. */
export type OnConfirmed<T> = (tx: Kysely<Database>, now: number, deviceId: string | null) => Promise<T | null>;

/**
 * The code factor, one home for sign-in, enrolment and the email change: pause → reserve the attempt
 * → verify → count or release → audit → tell the holder of a new lock → advance. Wrong, expired and
 * void codes count toward the lock (NIST SP 800-63B 5.2.2); neither Regenerate nor a new sign-in
 * resets that count, a confirmed code does — in the same transaction that finishes the flow, so a
 * confirmation is never half written. The right code arriving twice (a double click, or the losers
 * of a race with it) guesses nothing and gives its count back, on every flow alike. `confirmed` gets
 * the transaction; a null from it (the session ended meanwhile) answers "used".
 */
export async function checkCode<T>(deps: Deps, input: { user: User; flow: Flow; typed: string }, ctx: RequestContext, confirmed: OnConfirmed<T>): Promise<CodeCheck<T>> {
  const { user, flow } = input;
  const code = normaliseTypedCode(input.typed);
  if (code === null) return { kind: "malformed" };
  const now = deps.clock.now();
  const key = loginKey(user.login_id);
  const audit = (db: Kysely<Database>, entry: Pick<AuditEntry, "event" | "detail">) =>
    recordAudit(db, now, { ...entry, actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });

  const deviceId = await identifyDevice(deps, ctx.deviceTokens ?? [], key, now);
  const reservation = await reserveAttempt(deps.db, "code", { loginKey: key, ip: ctx.ip, deviceId }, now, deps.config);
  if (!reservation.ok) return { kind: "locked", ...reservation.pause };

  const outcome = await verifyCode(deps, flow.id, code, now);
  if (outcome.kind === "used") {
    await attemptVoid(deps.db, reservation);
    return outcome;
  }
  if (outcome.kind !== "ok") {
    const failure = await attemptFailed(deps.db, reservation, now);
    await audit(deps.db, { event: outcome.kind === "expired" ? "code.expired" : "code.failed", detail: { result: outcome.kind, purpose: flow.kind } });
    await tellLockStarted(deps, user, "code", failure, now);
    deps.metrics.codesFailed.inc();
    return outcome;
  }

  const value = await deps.db.transaction().execute(async (tx) => {
    await finishFlow(tx, flow.id, now);
    await audit(tx, { event: "code.confirmed", detail: { purpose: flow.kind } });
    await attemptSucceeded(tx, reservation);
    return confirmed(tx, now, deviceId);
  });
  if (value === null) return { kind: "used" };
  deps.metrics.codesConfirmed.inc();
  return { kind: "ok", value };
}
