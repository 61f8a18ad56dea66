import { sql, type Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { markAddressWorking } from "../bounce/addresses.ts";
import { enqueueClaimedMail, enqueueMail, neverSent, type CodeMailKind, type OutboxMessage } from "../mail/outbox.ts";
import { randomId } from "../platform/random.ts";
import { preparedInsert, preparedQuery, preparedQueryFor } from "../store/prepared.ts";
import type { CodesTable, Database } from "../store/schema.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import { generateCode, hashCode, sameHash } from "./code.ts";
import { openFlowIds, type Flow, type FlowScope } from "./flows.ts";
import { codeMail } from "./messages.ts";
import { isLocale, readerTimeZone } from "../i18n/locales.ts";

export type IssueOutcome =
  /** `claimed`: the mail as written already claimed by this process's sender (deps.mailLeaseUntil), else null. */
  | { kind: "sent"; codeId: string; outboxId: string; claimed: OutboxMessage | null; sentAt: number; expiresAt: number }
  /** FAMOS_OTP_RESEND_WAIT has not passed since the last code. */
  | { kind: "wait"; retryAt: number }
  /** FAMOS_OTP_PER_ATTEMPT codes were sent for this sign-in already. */
  | { kind: "attempt-cap" }
  /** FAMOS_OTP_PER_HOUR codes were sent to this account in the last hour. */
  | { kind: "hour-cap"; retryAt: number }
  /**
   * The flow was finished (confirmed, cancelled, replaced) since the caller read it — Regenerate in one
   * tab, Cancel or Confirm in another of the same session: the answer given when there is no flow.
   */
  | { kind: "no-flow" };

const HOUR = 3_600_000;

/**
 * Makes a new code for the flow, voids the one before it, and queues its mail — all in `tx`, so a
 * code exists only together with the mail that carries it. Caps count every code sent, the first
 * included. The caller hands the mail over after commit (codeQueued in factors/send-code.ts).
 */
export async function issueCode(
  deps: Deps,
  tx: Kysely<Database>,
  flow: Flow,
  loginId: string,
  now: number,
  /** The request that asked for the code: the mail says which browser and address (issue 15). */
  requestedBy?: { ip: string; userAgent: string },
  /** The recipient's saved language and time zone (issue 16); else FAMOS_DEFAULT_LOCALE and FAMOS_TIMEZONE. */
  reader?: { locale?: string | null; time_zone?: string | null },
): Promise<IssueOutcome> {
  const { otp } = deps.config;
  if (otp.perHour > 0) {
    // The account's cap spans its flows, so no one flow's row holds it: codes asked for one account at
    // once (parallel "Forgot password?" requests, two sign-ins) take turns on its row, and each count
    // sees the codes the others made.
    await takeTurnsOn(tx, deps.dialect, { table: "users", id: flow.user_id });
    const [recent] = await codesInLastHour(tx, flow.user_id, now - HOUR, now);
    const retryAt = hourCap(otp.perHour, flow.kind === "password-reset", recent, now);
    if (retryAt !== null) return { kind: "hour-cap", retryAt };
  }
  // One conditional update both checks and counts, so two racing Regenerate clicks can't both pass,
  // and none passes once the flow is finished: the flow the caller read may have ended since.
  const [counted] = await countCode(tx, flow.id, now, otp.perAttempt, now - otp.resendWaitMs);
  if (!counted) {
    const current = await tx.selectFrom("flows").select(["codes_sent", "last_code_at", "finished_at"]).where("id", "=", flow.id).executeTakeFirst();
    if (!current || current.finished_at !== null) return { kind: "no-flow" };
    if (noMoreCodes(current.codes_sent, otp.perAttempt)) return { kind: "attempt-cap" };
    return { kind: "wait", retryAt: (current.last_code_at ?? now) + otp.resendWaitMs };
  }

  // The flow's first code has no code before it to void: codes are made here only, each counted first.
  if (counted.codes_sent > 1) await voidFlowCodes(tx, flow.id, "regenerated", now);
  const code = generateCode(deps.random);
  const expiresAt = now + otp.ttlMs;
  const mail = codeMail({
    code,
    loginId,
    purpose: flow.kind,
    ttlMs: otp.ttlMs,
    expiresAt,
    timezone: readerTimeZone(reader?.time_zone, deps.config.timezone),
    locale: isLocale(reader?.locale) ? reader.locale : deps.config.defaultLocale,
    supportEmail: deps.config.supportEmail,
    requestedBy,
  });
  const kind: CodeMailKind = `code.${flow.kind}`;
  const outgoing = { userId: flow.user_id, kind, recipient: flow.email, ...mail };
  const leaseUntil = deps.mailLeaseUntil(now);
  const claimed = leaseUntil === null ? null : await enqueueClaimedMail(tx, now, deps.random, deps.mailDomain, outgoing, leaseUntil);
  const outboxId = claimed?.id ?? (await enqueueMail(tx, now, deps.random, deps.mailDomain, outgoing));
  const codeId = randomId(deps.random);
  await insertCode(tx, {
    id: codeId,
    flow_id: flow.id,
    user_id: flow.user_id,
    code_hash: hashCode(deps.keys.code, flow.id, code),
    email: flow.email,
    outbox_id: outboxId,
    created_at: now,
    expires_at: expiresAt,
    tries: 0,
    consumed_at: null,
    voided_at: null,
    void_reason: null,
  });
  return { kind: "sent", codeId, outboxId, claimed, sentAt: now, expiresAt };
}

/**
 * SPEC "Regenerate": at most FAMOS_OTP_PER_ATTEMPT codes per flow (a sign-in, an email change), the
 * first included. The one home of "this flow may have no more codes": issueCode's answer, and the words
 * of a code that no longer works (web/code-messages.ts noMoreCodesText), which then must not point to
 * Regenerate OTP (QA: a hint that is then refused).
 * countCode checks the same limit in the statement that counts (STYLE rule 12).
 */
export function noMoreCodes(codesSent: number, perAttempt: number): boolean {
  return codesSent >= perAttempt;
}

/**
 * SPEC "Regenerate": at most FAMOS_OTP_PER_HOUR codes per account an hour, counting every code sent.
 * Within that, the self-service reset's codes (FAMOS_PASSWORD_RESET=self) have a share of their own,
 * half of it: "Forgot password?" needs only a login ID, so a stranger asking again and again spent
 * the whole hour's codes and left the owner's sign-in none to send, in her usual browser too (SPEC
 * "Locks": a stranger who knows a login ID cannot keep its owner out). Now a stranger's requests stop
 * at the reset's share, and the rest of the hour's codes stay for what a password or a signed-in
 * session asks for. (With FAMOS_OTP_PER_HOUR=1 the reset's share is none: that one code is the owner's.)
 * Null: a code may be sent; else when one may be, an hour after the oldest code that stops it.
 */
export function hourCap(
  perHour: number,
  reset: boolean,
  recent: { n: number; oldest: number | null; resets: number; oldestReset: number | null } | undefined,
  now: number,
): number | null {
  const after = (oldest: number | null | undefined) => Number(oldest ?? now) + HOUR;
  if (Number(recent?.n ?? 0) >= perHour) return after(recent?.oldest);
  if (reset && Number(recent?.resets ?? 0) >= Math.floor(perHour / 2)) return after(recent?.oldestReset);
  return null;
}

/** The account's codes of the last hour, and the reset's among them (hourCap). Built and compiled once (issue 17). */
const codesInLastHour = preparedQuery((db, userId: string, since: number, now: number) =>
  db
    .selectFrom("codes")
    .innerJoin("flows", "flows.id", "codes.flow_id")
    .select((eb) => {
      const isReset = eb("flows.kind", "=", "password-reset");
      return [
        eb.fn.countAll<number>().as("n"),
        eb.fn.min<number>("codes.created_at").as("oldest"),
        eb.fn.count<number>(eb.case().when(isReset).then(1).end()).as("resets"),
        eb.fn.min<number | null>(eb.case().when(isReset).then(eb.ref("codes.created_at")).end()).as("oldestReset"),
      ];
    })
    .where("codes.user_id", "=", userId)
    .where("codes.created_at", ">", since)
    // "Every code sent": a code whose mail never left FAMOS and never will (the relay down, then
    // Regenerate OTP or Cancel) was not sent, and must not cap its owner once the relay is back.
    .where((eb) => eb.not(eb.exists(neverSent(db, now).where("outbox.id", "=", eb.ref("codes.outbox_id"))))),
);
/**
 * One conditional update both checks and counts; RETURNING gives the count, and says whether it
 * passed. Only an unfinished flow is counted, so no code is made for a finished one.
 */
const countCode = preparedQuery((db, flowId: string, now: number, perAttempt: number, waitedSince: number) =>
  db
    .updateTable("flows")
    .set({ codes_sent: sql`codes_sent + 1`, last_code_at: now })
    .where("id", "=", flowId)
    .where("finished_at", "is", null)
    .where("codes_sent", "<", perAttempt)
    .where((eb) => eb.or([eb("last_code_at", "is", null), eb("last_code_at", "<=", waitedSince)]))
    .returning("codes_sent"),
);
const insertCode = preparedInsert("codes", ["id", "flow_id", "user_id", "code_hash", "email", "outbox_id", "created_at", "expires_at", "tries", "consumed_at", "voided_at", "void_reason"]);

export type VerifyOutcome =
  | { kind: "ok"; codeId: string }
  /**
   * Wrong code; `earlierSentAt` when it was a code this flow sent before the current one, and
   * `currentSentAt` when the code to use was sent ("use the one sent at 14:02", SPEC item 4).
   */
  | { kind: "wrong"; triesLeft: number; earlierSentAt: number | null; currentSentAt: number }
  | { kind: "expired" }
  /** No usable code: tries used up, cancelled, or never sent. */
  | { kind: "void" }
  /** Already used: the code typed is the one its flow used — a replay, or the loser of a race with it. */
  | { kind: "used" }
  /**
   * The flow's code was used and the code typed is another (or malformed): no code of the flow is live, so
   * nothing is guessed — refused, counting nothing, and no line (code.reused needs the used code).
   */
  | { kind: "spent" };

/** A typed code that matches the flow's current code, not yet used up (useCode does that). */
export interface CodeMatch {
  kind: "match";
  codeId: string;
  /** Where the code went: once it is used, that address is known to take mail. */
  email: string;
}

/**
 * Checks a typed code against the flow's current code and uses it up (matchCode, then useCode): of
 * many requests racing with the right code exactly one gets "ok".
 */
export async function verifyCode(deps: Deps, flowId: string, typed: string, now: number): Promise<VerifyOutcome> {
  const match = await matchCode(deps, flowId, typed, now);
  if (match.kind !== "match") return match;
  return (await useCode(deps.db, match, now)) ? { kind: "ok", codeId: match.codeId } : { kind: "used" };
}

/**
 * Checks a typed code against the flow's current code without using it up: the caller does that
 * with useCode, in the transaction that acts on it (issue 17: one commit for the whole
 * confirmation). A wrong one adds a try by one conditional update, and the last allowed try voids
 * the code (ASVS 2.8.4, NIST SP 800-63B 5.2.2); an expired one is voided.
 */
export async function matchCode(deps: Deps, flowId: string, typed: string, now: number): Promise<CodeMatch | Exclude<VerifyOutcome, { kind: "ok" }>> {
  const { db } = deps;
  const [current] = await liveCode(db, flowId);
  if (!current) return explainMissingCode(deps, flowId, typed);
  if (codeLapse(current, now) === "expired") {
    await voidCode(db, current.id, "expired", now);
    return { kind: "expired" };
  }

  const typedHash = hashCode(deps.keys.code, flowId, typed);
  if (sameHash(typedHash, current.code_hash)) return { kind: "match", codeId: current.id, email: current.email };

  const max = deps.config.otp.tries;
  const [counted] = await countTry(db, current.id, max, now);
  const [earlier] = await earlierCode(db, flowId, current.id, typedHash);
  return {
    kind: "wrong",
    // A concurrent request used up the last try first: nothing is left for this one either.
    triesLeft: counted ? Math.max(0, max - counted.tries) : 0,
    earlierSentAt: earlier?.created_at ?? null,
    currentSentAt: current.created_at,
  };
}

/**
 * Why a flow's current code can no longer be used, or null while it can: "expired" from the moment
 * its validity ends (and once voided for that), "void" once voided otherwise (its last wrong try). The
 * one rule for matchCode and for the code pages opened again after a reload or Back (SPEC item 4).
 */
export function codeLapse(code: Pick<CodesTable, "expires_at" | "voided_at" | "void_reason">, now: number): "expired" | "void" | null {
  if (code.void_reason === "expired" || (code.voided_at === null && now >= code.expires_at)) return "expired";
  return code.voided_at === null ? null : "void";
}

/**
 * Uses up a matched code by one conditional update, so of many requests racing with it exactly one
 * succeeds; false when another request (or a void) took it first. The address it went to takes mail.
 */
export async function useCode(db: Kysely<Database>, match: CodeMatch, now: number): Promise<boolean> {
  const [consumed] = await consumeCode(db, match.codeId, now);
  if (!consumed) return false;
  // The code arrived, so the address takes mail: earlier bounces no longer hold (issue 15).
  await markAddressWorking(db, match.email, now);
  return true;
}

/**
 * Uses up a matched code (useCode) and, when another request took it first, says which kind of request:
 * "used" when it used the code (its twin: a double submit, the winner of a race), "voided" when it voided
 * it (the last wrong try of someone guessing at once, Cancel, Regenerate, a support reset) — then the code
 * was never used: no code.reused, and nothing counted, since it was right. Read after that request's
 * commit, by the code's own row. The one "why did my use lose" rule for every flow: checkCode's consume
 * and the reset's typedCodeVerdict.
 */
export async function spendCode(db: Kysely<Database>, match: CodeMatch, now: number): Promise<"consumed" | "used" | "voided"> {
  if (await useCode(db, match, now)) return "consumed";
  const [code] = await codeUse(db, match.codeId);
  return code?.consumed_at != null ? "used" : "voided";
}

// Issue 17: the statements of a code check, built and compiled once. The consumed_at and voided_at
// guards make the consuming and the counting updates conditional: of racing requests, one wins.
const liveCode = preparedQuery((db, flowId: string) =>
  db.selectFrom("codes").selectAll().where("flow_id", "=", flowId).where("consumed_at", "is", null).where("voided_at", "is", null),
);
const consumeCode = preparedQuery((db, id: string, now: number) =>
  db.updateTable("codes").set({ consumed_at: now }).where("id", "=", id).where("consumed_at", "is", null).where("voided_at", "is", null).returning("id"),
);
const codeUse = preparedQuery((db, id: string) => db.selectFrom("codes").select("consumed_at").where("id", "=", id));
const countTry = preparedQuery((db, id: string, max: number, now: number) =>
  db
    .updateTable("codes")
    .set({
      tries: sql`tries + 1`,
      voided_at: sql`CASE WHEN tries + 1 >= ${max} THEN ${now} ELSE voided_at END`,
      void_reason: sql`CASE WHEN tries + 1 >= ${max} THEN 'tries' ELSE void_reason END`,
    })
    .where("id", "=", id)
    .where("consumed_at", "is", null)
    .where("voided_at", "is", null)
    .returning("tries"),
);
const earlierCode = preparedQuery((db, flowId: string, currentId: string, typedHash: string) =>
  db.selectFrom("codes").select("created_at").where("flow_id", "=", flowId).where("id", "!=", currentId).where("code_hash", "=", typedHash),
);
const lastCode = preparedQuery((db, flowId: string) =>
  db.selectFrom("codes").select(["consumed_at", "void_reason", "code_hash"]).where("flow_id", "=", flowId).orderBy("created_at", "desc").limit(1),
);

/**
 * Why a code typed in a flow with no live code is refused. "used" only when the code typed is the one the
 * flow used (its last code, consumed), compared as matchCode compares: the stored keyed hash, in constant
 * time; "spent" when the flow's code was used and another (or a malformed one, `typed` null) is typed.
 * The one rule of "this is the used code again" (code.reused, ASVS 2.8.5) for every flow: sign-in,
 * enrolment and the email change (matchCode) and the self-service reset (typedCodeVerdict).
 */
export async function explainMissingCode(
  deps: Pick<Deps, "db" | "keys">,
  flowId: string,
  typed: string | null,
): Promise<Extract<VerifyOutcome, { kind: "used" | "spent" | "expired" | "void" }>> {
  const [last] = await lastCode(deps.db, flowId);
  if (last?.consumed_at != null) return typed !== null && sameHash(hashCode(deps.keys.code, flowId, typed), last.code_hash) ? { kind: "used" } : { kind: "spent" };
  if (last?.void_reason === "expired") return { kind: "expired" };
  return { kind: "void" };
}

/** Whether the flow's last code was used (so the flow, if finished, was finished by its own code). */
export async function lastCodeUsed(db: Kysely<Database>, flowId: string): Promise<boolean> {
  const [last] = await lastCode(db, flowId);
  return last?.consumed_at != null;
}

/** Voids the live codes in one scope: a single code, a flow's, or a user's. Used codes stay used. */
async function voidLiveCodes(
  db: Kysely<Database>,
  scope: "id" | "flow_id" | "user_id",
  value: string,
  reason: string,
  now: number,
): Promise<void> {
  await voidStatement(scope, db, value, reason, now);
}

/** The update that voids codes still live (neither used nor voided); the caller narrows it to its scope. */
const voidLive = (db: Kysely<Database>, reason: string, now: number) =>
  db.updateTable("codes").set({ voided_at: now, void_reason: reason }).where("consumed_at", "is", null).where("voided_at", "is", null);

const voidStatement = preparedQueryFor((scope: "id" | "flow_id" | "user_id", db, value: string, reason: string, now: number) =>
  voidLive(db, reason, now).where(scope, "=", value),
);

function voidCode(db: Kysely<Database>, id: string, reason: string, now: number): Promise<void> {
  return voidLiveCodes(db, "id", id, reason, now);
}

/** Voids every live code of a flow (Regenerate, Cancel, a support reset). */
export function voidFlowCodes(db: Kysely<Database>, flowId: string, reason: string, now: number): Promise<void> {
  return voidLiveCodes(db, "flow_id", flowId, reason, now);
}

/**
 * Voids every live code of a user (a support reset, a password change), or only those of the open
 * flows in `only` (FlowScope: all but the flow of the session making the change; those a newer
 * address supersedes, endSupersededFlows). Returns how many it voided (a disable says so only when
 * there were some).
 */
export async function voidUserCodes(db: Kysely<Database>, userId: string, reason: string, now: number, only: FlowScope = {}): Promise<number> {
  const narrowed = only.kinds !== undefined || only.otherAddressThan !== undefined;
  const voided = await voidLive(db, reason, now)
    .where("user_id", "=", userId)
    .$if(only.except != null, (qb) => qb.where("flow_id", "!=", only.except!))
    .$if(narrowed, (qb) => qb.where("flow_id", "in", openFlowIds(db, userId, only)))
    .executeTakeFirst();
  return Number(voided.numUpdatedRows);
}
