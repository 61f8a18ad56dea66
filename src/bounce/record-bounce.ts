import { sql, type Transaction } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { addressKey } from "./addresses.ts";
import type { BounceKind } from "./dsn.ts";
import { forwardBounceSet, forwardCounts, forwardOf, reportsFull, serializeAddress, takeForwardReport } from "./forward-reports.ts";
import type { Database } from "../store/schema.ts";
import { reasonText } from "./reason-text.ts";

export interface BounceReport {
  outboxId: string;
  kind: BounceKind;
  status: string | null;
  reason: string;
  /**
   * The address the reporting server failed, when the report names one: a DSN's Final-Recipient, the
   * webhook's `recipient`. Another address than the one mailed is a forward's or a group member's (forwardOf).
   */
  finalRecipient?: string | null;
}

export type BounceOutcome =
  /** `forwardedTo`: the report was of a forward of the message to that address, not of the address mailed (forwardOf). */
  | { kind: "recorded"; bounce: BounceKind; recipient: string; forwardedTo?: string }
  /** The same report again (a DSN delivered twice, a webhook retried): counted once. */
  | { kind: "duplicate" }
  | { kind: "unknown-message" };

/**
 * When soft bounces count as a hard one: MAILBOX_SOFT_BOUNCES of them that speak of the mailbox itself
 * (mailboxSoftStatus), the first at least MAILBOX_SOFT_DAYS before the last, with no code confirmed at the
 * address between (a confirmation starts the count again: markAddressWorking). A mailbox full for days (a
 * dealership's desk mailbox nobody empties) takes none of the codes sent meanwhile, as a dead one would;
 * five over three days rather than one, as a mailbox full for an afternoon is emptied, and the staff
 * member is not to be sent to support for it.
 *
 * All within MAILBOX_SOFT_WINDOW_DAYS of the first: a report that comes later starts the count again
 * from itself. A holder who signs in with a passkey confirms no code, so without it a mailbox full for an
 * afternoon a month ago and for another this week would count as full for a month. The count restarts
 * rather than sliding, so it never escalates on reports older than the window, and may escalate a
 * little later than a sliding one would.
 */
export const MAILBOX_SOFT_BOUNCES = 5;
export const MAILBOX_SOFT_DAYS = 3;
export const MAILBOX_SOFT_WINDOW_DAYS = 14;
const DAY = 86_400_000;

/**
 * A soft bounce's status that speaks of the recipient's mailbox (RFC 3463 X.2.0 other mailbox status,
 * X.2.1 disabled for now, X.2.2 full): not X.2.3 message too long or X.2.4 list expansion (the message's),
 * not the network's X.4.x, nor a relay's policy or FAMOS's sender (5.7.1, 5.1.8, recorded soft): those
 * come back for every staff member alike when FAMOS's relay is at fault, and never escalate.
 */
export function mailboxSoftStatus(status: string | null): boolean {
  return /^[45]\.2\.[012]$/.test(status ?? "");
}

/**
 * What a soft bounce writes on its address, the one rule of escalation for the listener and the webhook
 * alike (recordBounce): the count, the last reason, and — once MAILBOX_SOFT_BOUNCES mailbox bounces span
 * MAILBOX_SOFT_DAYS within MAILBOX_SOFT_WINDOW_DAYS — the address undeliverable with this report's words, as a hard bounce makes it (OTP
 * capture, the support user page and Needs attention then say so). Evaluated in the update itself, so two
 * reports racing both count.
 */
export function softBounceSet(now: number, reason: string, status: string | null) {
  const base = { soft_bounces: sql<number>`soft_bounces + 1`, last_soft_bounce_at: now, last_soft_reason: reason, updated_at: now };
  if (!mailboxSoftStatus(status)) return base;
  // The run began more than the window ago. An address this rule made undeliverable keeps its run, so that
  // it is still told as full (addresses.ts fullMailbox: undeliverable since the run began).
  const stale = sql<boolean>`undeliverable_at is null and mailbox_soft_since is not null and ${now} - mailbox_soft_since > ${MAILBOX_SOFT_WINDOW_DAYS * DAY}`;
  const since = sql<number>`case when ${stale} then ${now} else coalesce(mailbox_soft_since, ${now}) end`;
  const count = sql<number>`case when ${stale} then 1 else mailbox_soft_bounces + 1 end`;
  const escalates = sql<boolean>`undeliverable_at is null and ${count} >= ${MAILBOX_SOFT_BOUNCES} and ${now} - ${since} >= ${MAILBOX_SOFT_DAYS * DAY}`;
  return {
    ...base,
    mailbox_soft_bounces: count,
    mailbox_soft_since: since,
    undeliverable_at: sql<number | null>`case when ${escalates} then ${now} else undeliverable_at end`,
    undeliverable_reason: sql<string | null>`case when ${escalates} then ${reason} else undeliverable_reason end`,
  };
}

/**
 * What a hard bounce writes on its address: undeliverable with its words. The address itself is refused,
 * so a count of full-mailbox reports ends (addresses.ts fullMailbox: it is no longer "full").
 */
function hardBounceSet(now: number, reason: string) {
  return { undeliverable_at: now, undeliverable_reason: reason, mailbox_soft_bounces: 0, mailbox_soft_since: null, updated_at: now };
}

/**
 * One bounce, from the SMTP listener or the webhook, recorded in one place. On the message: when
 * and why (a hard bounce replaces a soft one, never the other way). On its address: a hard bounce
 * makes it undeliverable, a soft one adds to its count, and enough about the mailbox over days make it
 * undeliverable too (softBounceSet) — unless a code sent to the address was
 * confirmed after the message was written (a late report about mail that in the end arrived).
 *
 * A report of a forward (forwardOf: its Final-Recipient another address than the one mailed) alone says nothing of
 * the address mailed, which took the message: one staff member's dead mailbox behind a shared address, or a
 * stranger's forged report, must not tell every colleague that their address is dead. Each report is taken
 * once (forward_reports: the same kind naming the same mailbox again, a relay's retry, is a duplicate, as is any
 * beyond a message's FORWARD_REPORTS_PER_MESSAGE: reportsFull), audited
 * (mail.forward-bounced, with the address it was forwarded to: the support user page shows it), marked on
 * the message by bounced_at alone (the message's bounce_kind is not written: OTP capture, the announcement's
 * reach) and counted apart (famos_mail_bounced_total{kind="forward"}). The message's first hard one is
 * counted on the address (forward_bounces, outbox.forward_counted_at) when it is a code mail on an occasion not
 * counted yet (forwardCounts: sign-in, enrolment, email change; never a reset's): a group address's three dead
 * members report one message three times, one event; an announcement's twelve to a desk's staff, none. Only FORWARD_BOUNCES occasions with no code confirmed there make
 * the address undeliverable (forwardBounceSet: a one-person alias to a dead mailbox). The forward half lives in forward-reports.ts.
 */
export async function recordBounce(deps: Deps, report: BounceReport, source: "smtp" | "webhook"): Promise<BounceOutcome> {
  const now = deps.clock.now();
  const reason = reasonText(report.reason);
  const outcome = await deps.db.transaction().execute(async (tx) => {
    const message = await tx
      .selectFrom("outbox")
      .leftJoin("users", "users.id", "outbox.user_id")
      .select(["outbox.recipient", "outbox.created_at", "outbox.kind", "outbox.user_id", "users.login_id"])
      .where("outbox.id", "=", report.outboxId)
      .executeTakeFirst();
    if (!message) return { kind: "unknown-message" as const };
    const trail = { tx, now, source, message, report, reason };
    const forward = forwardOf(report.finalRecipient, message.recipient);
    if (forward !== null) {
      await serializeAddress(deps, tx, message.recipient);
      if (await reportsFull(tx, report.outboxId)) return { kind: "duplicate" as const };
      if (!(await takeForwardReport(tx, report.outboxId, report.kind, forward.key))) return { kind: "duplicate" as const };
      await tx.updateTable("outbox").set({ bounced_at: now }).where("id", "=", report.outboxId).where("bounced_at", "is", null).execute();
      const counts = report.kind === "hard" && (await forwardCounts(tx, now, report.outboxId, message, deps.config.otp.ttlMs));
      const written = counts ? await writeAddress(tx, message, forwardBounceSet(now, reason, forward.shown)) : undefined;
      await auditReport(trail, madeUndeliverable(written, now), forward.shown);
      return { kind: "recorded" as const, bounce: report.kind, recipient: message.recipient, forwardedTo: forward.shown };
    }
    // Checked and written in one statement, so two copies of a report racing count once.
    const marked = await tx
      .updateTable("outbox")
      .set({ bounced_at: now, bounce_kind: report.kind, bounce_reason: reason })
      .where("id", "=", report.outboxId)
      .where((eb) => (report.kind === "hard" ? eb.or([eb("bounce_kind", "is", null), eb("bounce_kind", "=", "soft")]) : eb("bounce_kind", "is", null)))
      .executeTakeFirst();
    if (Number(marked.numUpdatedRows) === 0) return { kind: "duplicate" as const };

    const written = await writeAddress(tx, message, report.kind === "hard" ? hardBounceSet(now, reason) : softBounceSet(now, reason, report.status));
    // A soft bounce that made the address undeliverable (softBounceSet) says so in the trail.
    await auditReport(trail, report.kind === "soft" && madeUndeliverable(written, now));
    return { kind: "recorded" as const, bounce: report.kind, recipient: message.recipient };
  });
  if (outcome.kind === "recorded") deps.metrics.mailBounced.inc({ kind: outcome.forwardedTo === undefined ? report.kind : "forward" });
  return outcome;
}

/** Whether this report's writing (writeAddress) made the address undeliverable. */
function madeUndeliverable(written: { undeliverable_at: number | null } | undefined, now: number): boolean {
  return written !== undefined && Number(written.undeliverable_at) === now;
}

/**
 * A report in the audit trail: mail.bounced, or mail.forward-bounced with the address it was forwarded to;
 * `undeliverable: true` when it made the address undeliverable by a count (softBounceSet, forwardBounceSet).
 */
async function auditReport(
  trail: {
    tx: Transaction<Database>;
    now: number;
    source: "smtp" | "webhook";
    message: { recipient: string; kind: string; login_id: string | null };
    report: BounceReport;
    reason: string;
  },
  escalated: boolean,
  forwardedTo?: string,
): Promise<void> {
  const { tx, now, source, message, report, reason } = trail;
  await recordAudit(tx, now, {
    event: forwardedTo === undefined ? "mail.bounced" : "mail.forward-bounced",
    actor: `bounce:${source}`,
    subject: message.login_id,
    ip: null,
    userAgent: null,
    detail: {
      bounce: report.kind,
      status: report.status,
      reason,
      to: message.recipient,
      ...(forwardedTo === undefined ? {} : { forwardedTo }),
      mail: message.kind,
      ...(escalated ? { undeliverable: true } : {}),
    },
  });
}

/**
 * A report's writing on the address mailed (its row made first), unless a code sent to the address was
 * confirmed after the message was written: then the address takes mail, and the report is of mail that in
 * the end arrived. The row's undeliverable_at after it, or undefined when it was not written.
 */
async function writeAddress(
  tx: Transaction<Database>,
  message: { recipient: string; created_at: number },
  set: ReturnType<typeof hardBounceSet> | ReturnType<typeof softBounceSet> | ReturnType<typeof forwardBounceSet>,
): Promise<{ undeliverable_at: number | null } | undefined> {
  const now = set.updated_at;
  const key = addressKey(message.recipient);
  await tx.insertInto("mail_addresses").values({ address_key: key, soft_bounces: 0, updated_at: now }).onConflict((oc) => oc.column("address_key").doNothing()).execute();
  return tx
    .updateTable("mail_addresses")
    .set(set)
    .where("address_key", "=", key)
    .where((eb) => eb.or([eb("confirmed_at", "is", null), eb("confirmed_at", "<=", message.created_at)]))
    // Someone — this user or a colleague sharing the mailbox — confirmed a code sent to this address
    // after this message was written: it takes mail. A code used after that moment was still valid
    // then. Found by address (migration 032's codes_email_key on lower(email)), then bounded by expiry:
    // the codes of the last session lifetime are too many to read whole (200,000 for 20,000 users).
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("codes")
            .select("codes.id")
            .where("codes.expires_at", ">", message.created_at)
            .where("codes.consumed_at", ">=", message.created_at)
            // lower() folds ASCII alone on SQLite, as addressKey folds here: every address FAMOS mails passed the
            // WHATWG rule (checkEmailEntry: ASCII only, email-rules.unit "refuses internationalised addresses").
            .where(sql<string>`lower(codes.email)`, "=", key),
        ),
      ),
    )
    .returning("undeliverable_at")
    .executeTakeFirst();
}
