import { sql, type Kysely } from "kysely";
import { userTranslator } from "../i18n/translator.ts";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type Actor } from "../audit/audit.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { ANNOUNCEMENT_KIND, announcementMail, portalRefused } from "./announce-mail.ts";
import { alwaysTwoFactor } from "./applies.ts";
import { readPlan, startInPlan, type RolloutPlan } from "./plan.ts";
import type { User } from "../users/users.ts";
import { storedWordsShown } from "../users/fields.ts";
import type { Database } from "../store/schema.ts";
import { KEYS_PER_IN_LIST, slicesOf } from "../store/in-lists.ts";

/** A user the announcement is for: no confirmed OTP email yet, and two factors still to come (notYetTwoFactor). */
interface Recipient {
  id: string;
  loginId: string;
  fullName: string;
  partnerNumber: string;
  /** The contact address from the import, else an address entered but not confirmed; null: none known. */
  address: string | null;
  announced: boolean;
  /** The announcement bounced hard: where it went and the receiving server's words. */
  bounce: { address: string; reason: string | null } | null;
  /** Issue 16: the user's saved language and zone, when they have chosen them. */
  locale: string | null;
  time_zone: string | null;
}

/** The announcement was not sent to anyone, and why (the operator's to fix). */
export class AnnouncementRefused extends Error {}

export interface Unreachable {
  loginId: string;
  fullName: string;
  partnerNumber: string;
}

/** A user whose announcement the receiving side refused for good (a hard bounce): never told. */
export interface Bounced extends Unreachable {
  address: string;
  reason: string | null;
}

/** A user a dry run would mail, and where. */
export interface Due extends Unreachable {
  address: string;
}

export interface AnnounceReport {
  /** Queued by this run (with --dry-run: would be). */
  mailed: number;
  /** With --dry-run: who would be mailed (empty on a real run). */
  wouldMail: Due[];
  /** Announced by an earlier run: not mailed again. */
  alreadyAnnounced: number;
  /** Users with a confirmed OTP email: nothing to announce. */
  enrolled: number;
  /**
   * Users without one whom two factors already apply to (alwaysTwoFactor: an OTP email reset by support,
   * a role that always signs in with two): the announcement's "from <start>" is not true of them.
   */
  alreadyTwoFactor: number;
  /** Users with no address at all, for retail IT to reach another way. */
  withoutAddress: Unreachable[];
  /** Announced, but the mail bounced hard (a typo, a dealership's dead domain): to reach another way, not counted as announced. */
  bounced: Bounced[];
  /** Still to mail when the run was stopped (0 when it finished). */
  left: number;
  stopped: boolean;
}

export interface AnnounceOptions {
  partner: string | null;
  dryRun: boolean;
  actor: Actor;
  onStart?(toMail: number): void;
  onProgress?(done: number): void;
  /** Waits between two mails to keep FAMOS_ANNOUNCE_RATE (the caller owns real time). */
  pace?(): Promise<void>;
  /** Asked before each mail: true ends the run cleanly (Ctrl-C). */
  shouldStop?(): boolean;
}

/**
 * The users whose latest announcement (a moved wave mails again) the receiving side refused for good
 * (recordBounce's hard bounce): where it went and the server's words. Listed by the next run, and not
 * told again of a moved wave at that address (forgetStaleAnnouncements), of the partners given (null:
 * all). Read from the hard bounces alone (outbox_hard_bounced, migration 018), each kept only while it
 * is its user's latest announcement (outbox_user); of two sent at the same moment the one that went
 * through is the latest.
 */
async function bouncedAnnouncements(db: Kysely<Database>, partners: readonly string[] | null): Promise<Map<string | null, { address: string; reason: string | null }>> {
  const sent = await db
    .selectFrom("outbox as o")
    .select(["o.user_id", "o.recipient", "o.bounce_reason"])
    // Only the partners asked for (null: all): a dealership's run is not handed the network's bounces.
    .$if(partners !== null, (q) => q.innerJoin("users", "users.id", "o.user_id").where("users.partner_number", "in", partners!))
    .where("o.kind", "=", ANNOUNCEMENT_KIND)
    .where("o.bounce_kind", "=", "hard")
    // This hard bounce is the user's latest announcement (one query per bounce, through outbox_user; of
    // two sent at the same moment the one not bounced hard first): one row per user at most.
    .where((eb) =>
      eb(
        eb
          .selectFrom("outbox as n")
          .select("n.id")
          .whereRef("n.user_id", "=", "o.user_id")
          .where("n.kind", "=", ANNOUNCEMENT_KIND)
          .orderBy("n.created_at", "desc")
          .orderBy(sql`case when n.bounce_kind = 'hard' then 1 else 0 end`)
          .orderBy("n.id")
          .limit(1),
        "=",
        eb.ref("o.id"),
      ),
    )
    .execute();
  // The receiving server's words, stored as they came (a reason kept from before reasonText): hidden characters shown.
  return new Map(sent.map((m) => [m.user_id, { address: m.recipient, reason: storedWordsShown(m.bounce_reason) }]));
}

/**
 * The announcement promises a change to come: "From <start>, signing in to FAMOS takes two steps", and
 * "you can set it now" from the banner that password-only sessions show. Not true of an account two
 * factors already apply to (alwaysTwoFactor, the one rule): one whose OTP email support reset is asked
 * for a new one at its next sign-in, as the reset's mail said, and never shown the banner. Not mailed,
 * not chased as without an address, not told a moved wave.
 */
const notYetTwoFactor = (deps: Deps, user: Pick<User, "role" | "otp_email" | "otp_email_confirmed_at" | "strong_factor_at">) => !alwaysTwoFactor(deps.config, user);

async function recipients(deps: Deps, partner: string | null): Promise<{ enrolled: number; alreadyTwoFactor: number; open: Recipient[] }> {
  // Leavers are disabled, not deleted: the rollout's mail is not for them, nor its list to chase.
  const enabled = deps.db
    .selectFrom("users")
    .where("users.disabled_at", "is", null)
    .$if(partner !== null, (q) => q.where("users.partner_number", "=", partner!));
  // The enrolled are only counted: a network's thousands of them are not read into JavaScript.
  const counted = await enabled.select((eb) => eb.fn.countAll<number | string>().as("n")).where("users.otp_email", "is not", null).executeTakeFirstOrThrow();
  const rows = await enabled
    .leftJoin("rollout_users", "rollout_users.user_id", "users.id")
    .select(["users.id", "users.login_id", "users.full_name", "users.partner_number", "users.pending_email", "rollout_users.contact_email", "rollout_users.announced_at", "users.locale", "users.time_zone"])
    .select(["users.role", "users.otp_email", "users.otp_email_confirmed_at", "users.strong_factor_at"])
    .where("users.otp_email", "is", null)
    .orderBy("users.partner_number")
    .orderBy("users.login_key")
    .execute();
  const toCome = rows.filter((r) => notYetTwoFactor(deps, r));
  const bounced = await bouncedAnnouncements(deps.db, partner === null ? null : [partner]);
  const open = toCome.map((r) => ({
    id: r.id,
    loginId: r.login_id,
    fullName: r.full_name,
    partnerNumber: r.partner_number,
    address: r.contact_email ?? r.pending_email,
    announced: r.announced_at !== null,
    bounce: r.announced_at !== null ? (bounced.get(r.id) ?? null) : null,
    locale: r.locale ?? null,
    time_zone: r.time_zone ?? null,
  }));
  return { enrolled: Number(counted.n), alreadyTwoFactor: rows.length - toCome.length, open };
}

/**
 * `famos rollout announce`: one mail through the outbox to every user with a known address and no
 * confirmed OTP email. Each user is marked announced in the transaction that queues their mail, by
 * a statement that only succeeds while unmarked, so a run stopped at any point (or two runs at once)
 * mails nobody twice, and running it again picks up where it stopped. Refused, mailing and marking
 * nobody, in production, when the mail could not say where to sign in (portalRefused); a dry run still counts.
 */
export async function announceRollout(deps: Deps, options: AnnounceOptions): Promise<AnnounceReport> {
  const unknown = portalRefused(deps.config, options.dryRun);
  if (unknown) {
    throw new AnnouncementRefused(`${unknown}. Set it to the address staff use (such as https://famos.dealer.example) and run the command again; nobody was mailed`);
  }
  const { enrolled, alreadyTwoFactor, open } = await recipients(deps, options.partner);
  const withoutAddress = open.filter((r) => r.address === null).map(({ loginId, fullName, partnerNumber }) => ({ loginId, fullName, partnerNumber }));
  const bounced = open.flatMap(({ loginId, fullName, partnerNumber, bounce }) => (bounce === null ? [] : [{ loginId, fullName, partnerNumber, ...bounce }]));
  const alreadyAnnounced = open.filter((r) => r.address !== null && r.announced && r.bounce === null).length;
  const due = open.filter((r) => r.address !== null && !r.announced);
  const report: AnnounceReport = { mailed: 0, wouldMail: [], alreadyAnnounced, enrolled, alreadyTwoFactor, withoutAddress, bounced, left: due.length, stopped: false };
  options.onStart?.(due.length);
  if (options.dryRun) {
    const wouldMail = due.map(({ loginId, fullName, partnerNumber, address }) => ({ loginId, fullName, partnerNumber, address: address! }));
    return { ...report, mailed: due.length, wouldMail, left: 0 };
  }

  for (const recipient of due) {
    if (options.shouldStop?.()) return { ...report, stopped: true };
    if (report.mailed > 0) await options.pace?.();
    const outcome = await announceTo(deps, recipient, options.actor);
    if (outcome === "mailed") report.mailed += 1;
    else if (outcome === "already") report.alreadyAnnounced += 1;
    else if (outcome === "two-factor") report.alreadyTwoFactor += 1;
    report.left -= 1;
    options.onProgress?.(due.length - report.left);
  }
  return report;
}

/**
 * Marks and queues one announcement in one transaction: "already" when another run got there first,
 * "disabled" when the user left since the run read its recipients (a run takes minutes), "two-factor" when
 * two factors came to apply to them meanwhile (support reset an OTP email set up early). The start is
 * read here, not once for the run: a wave moved meanwhile (changeWave, in another process) is told
 * as it now is, and those told the old start are marked for the next run (forgetStaleAnnouncements).
 */
async function announceTo(deps: Deps, recipient: Recipient, actor: Actor): Promise<"mailed" | "already" | "disabled" | "two-factor"> {
  const now = deps.clock.now();
  const queued = await deps.db.transaction().execute(async (tx) => {
    const enabled = await tx.selectFrom("users").select(["role", "otp_email", "otp_email_confirmed_at", "strong_factor_at"]).where("id", "=", recipient.id).where("disabled_at", "is", null).executeTakeFirst();
    if (!enabled) return "disabled" as const;
    if (!notYetTwoFactor(deps, enabled)) return "two-factor" as const;
    const claimed = await tx
      .insertInto("rollout_users")
      .values({ user_id: recipient.id, contact_email: null, grace_used: 0, announced_at: now })
      .onConflict((oc) => oc.column("user_id").doUpdateSet({ announced_at: now }).where("rollout_users.announced_at", "is", null))
      .returning(sql<number>`1`.as("claimed"))
      .executeTakeFirst();
    if (!claimed) return "already" as const;
    const startsAt = startInPlan(await readPlan(tx), recipient.partnerNumber);
    const mail = announcementMail(deps.config, { ...recipient, startsAt, now }, userTranslator(deps.config, recipient));
    await enqueueMail(tx, now, deps.random, deps.mailDomain, { userId: recipient.id, kind: ANNOUNCEMENT_KIND, recipient: recipient.address!, ...mail });
    const detail = { partner: recipient.partnerNumber, startsAt: startsAt === null ? null : new Date(startsAt).toISOString() };
    await recordAudit(tx, now, { ...actor, event: "rollout.announced", subject: recipient.loginId, detail });
    return "mailed" as const;
  });
  if (queued === "mailed") deps.mailQueued();
  return queued;
}

/**
 * After a plan change: users announced a start that is no longer theirs (the wave moved, or was
 * removed, or their partner got or lost a start of its own) and not enrolled yet are marked not
 * announced, so the next `famos rollout announce` mails them the start that now applies. A start set
 * again unchanged marks nobody. `partner` narrows the search to the wave changed (null: the default,
 * which any partner may follow). Returns how many users will be told again.
 */
export async function forgetStaleAnnouncements(deps: Deps, before: RolloutPlan, after: RolloutPlan, partner: string | null): Promise<number> {
  let announced = deps.db
    .selectFrom("users")
    .innerJoin("rollout_users", "rollout_users.user_id", "users.id")
    .select("users.partner_number")
    .distinct()
    .where("rollout_users.announced_at", "is not", null)
    .where("users.otp_email", "is", null);
  if (partner !== null) announced = announced.where("users.partner_number", "=", partner);
  const partners = (await announced.execute()).map((r) => r.partner_number).filter((p) => startInPlan(before, p) !== startInPlan(after, p));
  return forgetAnnouncements(deps, deps.db, partners, null);
}

/**
 * After `famos user import --update` moved a user to another partner (in its transaction, the waves
 * held): an announcement of the old partner's start is forgotten when the new partner's start differs, so
 * the next `famos rollout announce` mails the one that now applies (before, the user kept the old date,
 * and a move to an earlier wave met the code unannounced). The same rule as a moved wave's.
 */
export async function forgetMovedAnnouncement(deps: Deps, tx: Kysely<Database>, userId: string, from: string, to: string): Promise<number> {
  const plan = await readPlan(tx);
  if (startInPlan(plan, from) === startInPlan(plan, to)) return 0;
  return forgetAnnouncements(deps, tx, [to], [userId]);
}

/**
 * The one home of "this announcement told a start no longer theirs": the users of `partners` (only
 * `userIds` of them, when given) announced and not enrolled are marked not announced.
 */
async function forgetAnnouncements(deps: Deps, db: Kysely<Database>, partners: readonly string[], userIds: readonly string[] | null): Promise<number> {
  const ids: string[] = [];
  // Bounded IN lists, the partners' too: a moved default start is every partner that follows it.
  for (const partnerSlice of slicesOf(partners, KEYS_PER_IN_LIST)) {
    // Not those whose announcement bounced hard at the address they still have: a new mail would go to the
    // same dead mailbox. They stay on the run's bounced list; a corrected import clears their mark.
    const bounced = await bouncedAnnouncements(db, partnerSlice);
    for (const userSlice of userIds === null ? [null] : slicesOf(userIds, KEYS_PER_IN_LIST)) {
      const stale = await db
        .selectFrom("users")
        .innerJoin("rollout_users", "rollout_users.user_id", "users.id")
        .select(["users.id", "rollout_users.contact_email", "users.pending_email", "users.role", "users.otp_email", "users.otp_email_confirmed_at", "users.strong_factor_at"])
        .where("rollout_users.announced_at", "is not", null)
        .where("users.otp_email", "is", null)
        .where("users.disabled_at", "is", null)
        .where("users.partner_number", "in", partnerSlice)
        .$if(userSlice !== null, (q) => q.where("users.id", "in", userSlice!))
        .execute();
      // Nor those two factors already apply to (a reset since their announcement): the run does not mail them.
      ids.push(...stale.filter((u) => notYetTwoFactor(deps, u) && bounced.get(u.id)?.address.toLowerCase() !== (u.contact_email ?? u.pending_email)?.toLowerCase()).map((u) => u.id));
    }
  }
  let told = 0;
  // Bounded IN lists: a wave is thousands of users.
  for (const slice of slicesOf(ids, KEYS_PER_IN_LIST)) {
    const result = await db
      .updateTable("rollout_users")
      .set({ announced_at: null })
      .where("announced_at", "is not", null)
      .where("user_id", "in", slice)
      .executeTakeFirst();
    told += Number(result.numUpdatedRows);
  }
  return told;
}
