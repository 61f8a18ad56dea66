import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { formatDateTime } from "../platform/format.ts";
import type { Database } from "../store/schema.ts";
import { partnerNumberProblem } from "../users/fields.ts";
import { actingNow, pageRefusal, type Acting, type Refusal } from "../support/acting.ts";
import { readLocalDateTime } from "../support/zoned-time.ts";
import { forgetStaleAnnouncements } from "./announce.ts";
import { endPasswordOnlyBeforeStart } from "./password-only.ts";
import { holdWaves, readPlan, removeWave, setWaveStart } from "./plan.ts";

/** What a console form or `famos rollout plan` asks for; `partner` empty or null is the default start. */
export interface WaveRequest {
  partner: string | null;
  /** A wall-clock time, as `2027-01-11T07:00`, in `timeZone`; null removes the wave. */
  from: string | null;
  /** The zone `from` is read in: FAMOS_TIMEZONE for the command line; the console gives its reader's, the zone its pages show. */
  timeZone?: string;
}

export type WaveOutcome =
  /**
   * `nobody`: a partner's start that no user's partner number has yet (a typo, or leading zeros).
   * `past`: a start before now, saved all the same (an operator may mean "now"): it applies at once,
   * from these users' next sign-in. `skipped`: the time typed does not exist in the zone (the clocks
   * jump `byMs` forward over it); the start is the time that instant shows, `shown`. `typed` is that
   * time as the command line writes it, `wall` the same as if it were UTC (a page writes it in its
   * reader's language). The one rule behind both warnings: `famos rollout plan` and the Rollout form.
   */
  | {
      kind: "set";
      partnerNumber: string | null;
      startsAt: number;
      shown: string;
      nobody: boolean;
      past: boolean;
      toldAgain: number;
      skipped: { typed: string; wall: number; byMs: number } | null;
    }
  /** `toldAgain`: users announced the start this change replaced, to be mailed the new one by the next announcement. */
  | { kind: "removed"; partnerNumber: string | null; toldAgain: number }
  | { kind: "not-found"; partnerNumber: string | null }
  /** Every problem at once, by the console form's field (`partner`, `from`); `message` says them all, for the command line. */
  | { kind: "invalid"; message: string; problems: WaveProblems }
  /** The acting person, read again in the change's transaction, is no longer an enabled administrator. */
  | Refusal;

export interface WaveProblems {
  partner?: string;
  from?: string;
}

/**
 * One rule for the console and the command line: check, write, audit. `by`: the console's administrator
 * (or the operator, `user` null), read again in the transaction (actingNow) as the console's other writes
 * are: the step-up's password check runs after the request's session said who acts, and one demoted or
 * disabled meanwhile changes no start (pageRefusal, the console page's own rule and words).
 */
export async function changeWave(deps: Deps, by: Acting, request: WaveRequest): Promise<WaveOutcome> {
  const actor = by.audit;
  const partnerNumber = request.partner === null || request.partner.trim() === "" ? null : request.partner.trim();
  const tz = request.timeZone ?? deps.config.timezone;
  const read = request.from === null ? null : readLocalDateTime(request.from, tz);
  const startsAt = read?.instant ?? null;
  // Both checked before either is answered: the form says every problem at once (WCAG 3.3.1).
  const problems: WaveProblems = {};
  // Partner numbers as `user add` and the import accept them.
  const partnerProblem = partnerNumber === null ? null : partnerNumberProblem(partnerNumber, "sentence");
  if (partnerProblem !== null) problems.partner = partnerProblem;
  if (request.from !== null && startsAt === null) problems.from = `The start must be a date and time such as 2027-01-11T07:00 (read in ${tz}).`;
  if (problems.partner !== undefined || problems.from !== undefined) return { kind: "invalid", message: Object.values(problems).join(" "), problems };
  const now = deps.clock.now();
  // The change, its cut of the password-only sessions and its audit line in one transaction, the waves
  // held first (holdWaves): a password-only sign-in under way either commits its session before the
  // cut, which then ends it, or reads the plan as changed (heldWaveStart).
  const changed = await deps.db.transaction().execute(async (tx) => {
    const acting = await actingNow(tx, by);
    // The Rollout form's route rule (access "admin"), met again by the person as read now.
    const refused = pageRefusal(acting.user, "admin");
    if (refused) return refused;
    await holdWaves(tx, deps.dialect, partnerNumber, "update");
    const before = await readPlan(tx);
    if (startsAt !== null) await setWaveStart(tx, partnerNumber, startsAt, now, actor.actor ?? "unknown");
    else if (!(await removeWave(tx, partnerNumber))) return null;
    // How many password-only sessions it cut short, in its audit line: they then end as a lapse, which writes none.
    const passwordOnlyEnded = await endPasswordOnlyBeforeStart(tx, partnerNumber, now, before);
    const detail = { partner: partnerNumber ?? "default", startsAt: startsAt === null ? null : new Date(startsAt).toISOString(), passwordOnlyEnded };
    await recordAudit(tx, now, { ...actor, event: "rollout.planned", subject: null, detail });
    return { before };
  });
  if (changed === null) return { kind: "not-found", partnerNumber };
  if ("kind" in changed) return changed;
  // Users mailed the start this change replaces are mailed the new one by the next announcement.
  const told = await forgetStaleAnnouncements(deps, changed.before, await readPlan(deps.db), partnerNumber);
  if (startsAt === null) return { kind: "removed", partnerNumber, toldAgain: told };
  // Saved all the same: a dealer's start may be planned before its users are imported.
  const nobody = partnerNumber !== null && (await noUserHasPartner(deps.db, partnerNumber));
  const skipped = read !== null && read.skippedMs > 0 ? { typed: formatDateTime(read.wall, "UTC"), wall: read.wall, byMs: read.skippedMs } : null;
  return { kind: "set", partnerNumber, startsAt, shown: `${formatDateTime(startsAt, tz)} (${tz})`, nobody, past: startsAt < now, toldAgain: told, skipped };
}

/**
 * No user has this partner number (yet): a typo, or leading zeros left off ("815" for "0815"). The one
 * check behind the warning of `famos rollout plan` and `famos rollout announce` alike.
 */
export async function noUserHasPartner(db: Kysely<Database>, partnerNumber: string): Promise<boolean> {
  return (await db.selectFrom("users").select("id").where("partner_number", "=", partnerNumber).limit(1).executeTakeFirst()) === undefined;
}
