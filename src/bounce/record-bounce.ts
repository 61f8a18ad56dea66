import { createHash } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { addressKey, reportedAddressKey } from "./addresses.ts";
import type { BounceKind } from "./dsn.ts";
import { passwordProvenCode } from "../mail/claims.ts";
import { maskEmailsIn } from "../platform/format.ts";
import type { Database } from "../store/schema.ts";
import { showHiddenCharacters } from "../users/fields.ts";

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
 * A reporting server's words as one line of plain text, at most 300 characters (code points). They come from
 * outside — any mail server, or anyone who writes a DSN to the VERP address they read in their own
 * code mail's Return-Path — and reach the console, the audit trail and `famos user show` on an
 * operator's terminal: C0 and C1 control characters (ESC and CSI start terminal escapes that retitle
 * the window, clear it or write the clipboard; CR and LF break lines) and Unicode's line and paragraph
 * separators become a space (ASVS 5.3.1, 7.3.1). Invisible format characters become U+FFFD, seen and
 * harmless (showHiddenCharacters, the rule of names and notice titles): a U+202E in a forged report
 * reversed the console's own words after the reason ("; mailbox full", the soft count) on the user's
 * page and on Needs attention, as it once did a notice title's on the banner.
 */
export function reasonText(raw: string): string {
  const text = showHiddenCharacters(
    raw
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
      .replace(/ {2,}/g, " ")
      .trim(),
  );
  // By code points: a UTF-16 slice could end between the two halves of an emoji (a lone surrogate).
  return Array.from(text).slice(0, 300).join("");
}

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
 * When forwards' reports tell of the address mailed: FORWARD_BOUNCES code mails on separate occasions with a hard
 * bounce of a forward (forwardOf), each counted once however many of a group's members report it, never an
 * announcement or a notice (forwardCounts), with no code sent
 * to the address confirmed since the first (a confirmation sets the count to 0: addresses.ts
 * markAddressWorking; and a report of a message older than a confirmation is not counted: writeAddress). No
 * time window, unlike softBounceSet's: the count grows only between confirmations, and an alias whose three
 * messages bounce over months is as dead. A shared desk's address, expanded to twelve staff of whom one has left, keeps
 * working: the colleagues confirm the codes it brings them, and one dead mailbox behind it marks nothing. A
 * one-person alias (j.doe@ → jane.doe@ whose mailbox was deleted, or Exchange naming the mailbox's primary
 * address when an alias was mailed) never confirms a code: after FORWARD_BOUNCES of them the address is
 * undeliverable, with this report's words after the mailbox forwarded to, masked (maskEmailsIn: a third
 * person's address, shown to support), so OTP capture, the support user page and Needs attention say so.
 */
export const FORWARD_BOUNCES = 3;
/** The forward reports one message takes (reportsFull): a group's dead members are a few, never more. */
export const FORWARD_REPORTS_PER_MESSAGE = 20;

export function forwardBounceSet(now: number, reason: string, forwardedTo: string) {
  const escalates = sql<boolean>`undeliverable_at is null and forward_bounces + 1 >= ${FORWARD_BOUNCES}`;
  const words = reasonText(`→ ${maskEmailsIn(forwardedTo)}: ${maskEmailsIn(reason)}`);
  return {
    forward_bounces: sql<number>`forward_bounces + 1`,
    undeliverable_at: sql<number | null>`case when ${escalates} then ${now} else undeliverable_at end`,
    undeliverable_reason: sql<string | null>`case when ${escalates} then ${words} else undeliverable_reason end`,
    updated_at: now,
  };
}

/**
 * Whether a message's hard forward report counts on its address (forwardBounceSet), marking the message counted
 * (outbox.forward_counted_at) when it does: once per message, and only a message whose arrival someone can
 * confirm, so that no confirmation means no one got it, and that only someone who passed the password asked for:
 * a code mail of sign-in, enrolment or email change (passwordProvenCode), confirmed by its code. An announcement or
 * a notice never is; "Forgot password?"'s code mail is asked for by a login ID alone (FAMOS_PASSWORD_RESET=self),
 * and a stranger who knows one desk user's login ID, asking for a reset each night while the desk's one dead
 * member bounces each forward, would mark the shared address with no forged report. `famos rollout announce` mails each of a
 * desk's twelve staff at once, before any of them has confirmed a code there: one leaver behind the desk
 * returns twelve reports of twelve messages, and the operator's own mailing would mark the desk (the
 * shared-address rule). Their reports are audited and in the metric still, and count nothing.
 *
 * And once per occasion: not when another code mail to the address, whose code and this one's were valid at
 * the same time (created less than the code validity apart, FAMOS_OTP_TTL), was counted already. Colleagues
 * signing in at the desk at opening time are mailed several codes before the first of them confirms one: one
 * occasion, as one code mail is. A one-person alias to a dead mailbox is still marked after FORWARD_BOUNCES
 * sign-ins on separate occasions with no code confirmed (its holder's retries within minutes are one). Checked
 * and written in one statement, so two reports of the message racing count once; and, on PostgreSQL, after
 * serializeAddress, so two reports of two messages of one occasion racing count once too.
 */
async function forwardCounts(
  tx: Transaction<Database>,
  now: number,
  outboxId: string,
  message: { kind: string; recipient: string; created_at: number },
  codeTtlMs: number,
): Promise<boolean> {
  if (!passwordProvenCode(message.kind)) return false;
  const key = addressKey(message.recipient);
  const marked = await tx
    .updateTable("outbox")
    .set({ forward_counted_at: now })
    .where("id", "=", outboxId)
    .where("forward_counted_at", "is", null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("codes")
            .innerJoin("outbox as counted", "counted.id", "codes.outbox_id")
            .select("codes.id")
            // No index on expiry (migration 010 dropped it): the codes table holds only the codes of flows of the
            // last session lifetime (retention deletes them with their flows), so the scan is a small one.
            .where("codes.expires_at", ">", message.created_at)
            .where("codes.created_at", "<", message.created_at + codeTtlMs)
            .where(sql<string>`lower(codes.email)`, "=", key)
            .where("counted.id", "<>", outboxId)
            .where("counted.forward_counted_at", "is not", null),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(marked.numUpdatedRows) === 1;
}

/**
 * What a hard bounce writes on its address: undeliverable with its words. The address itself is refused,
 * so a count of full-mailbox reports ends (addresses.ts fullMailbox: it is no longer "full").
 */
function hardBounceSet(now: number, reason: string) {
  return { undeliverable_at: now, undeliverable_reason: reason, mailbox_soft_bounces: 0, mailbox_soft_since: null, updated_at: now };
}

/**
 * The address a report names when it is not the one the message was mailed to (compared as addresses are,
 * reportedAddressKey, which reads the address out of `<…>` or `Name <…>` itself: the same mailbox written
 * otherwise is that mailbox), else null: `key` to compare, and `shown` as a page or terminal may show it
 * (reasonText: it is a stranger's text), as the server wrote it without a whole `<…>` around it. A
 * dealership's shared address (sales@…) that its own server forwards or expands to a staff member's mailbox
 * took the mail; a report that the staff member's mailbox is dead (its Final-Recipient) is that forward's.
 */
function forwardOf(finalRecipient: string | null | undefined, mailedTo: string): { key: string; shown: string } | null {
  const key = reportedAddressKey(finalRecipient ?? "");
  if (key === "" || key === reportedAddressKey(mailedTo)) return null;
  return { key, shown: reasonText(finalRecipient!.trim().replace(/^<(.*)>$/, "$1")) };
}

/**
 * On PostgreSQL, the transaction waits for any other recording a forward report of mail to the same address until
 * it ends (a transaction-scoped advisory lock on the address key). READ COMMITTED: two reports of different
 * messages of one occasion, recorded at once, each missed the other's uncommitted forward_counted_at
 * (forwardCounts), and the address counted 2 for one occasion. SQLite's transactions are serial already (begin
 * immediate).
 */
async function serializeAddress(deps: Deps, tx: Transaction<Database>, recipient: string): Promise<void> {
  if (deps.dialect !== "postgres") return;
  await sql`select pg_advisory_xact_lock(hashtext(${`forward:${addressKey(recipient)}`}))`.execute(tx);
}

/**
 * Whether a message has its FORWARD_REPORTS_PER_MESSAGE forward reports already: any more are taken as
 * duplicates, neither kept nor audited. Whoever holds a code mail's VERP return path could otherwise write a
 * report per invented Final-Recipient into the audit trail without end.
 */
async function reportsFull(tx: Transaction<Database>, outboxId: string): Promise<boolean> {
  const { n } = await tx.selectFrom("forward_reports").select((eb) => eb.fn.countAll<number>().as("n")).where("outbox_id", "=", outboxId).executeTakeFirstOrThrow();
  return Number(n) >= FORWARD_REPORTS_PER_MESSAGE;
}

/** A forward report's identity on its message (forward_reports.report): its kind and the mailbox it names, digested. */
function forwardReportId(kind: BounceKind, key: string): string {
  return createHash("sha256").update(`${kind} ${key}`).digest("base64url");
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
 * the address undeliverable (forwardBounceSet: a one-person alias to a dead mailbox).
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
      // Checked and written in one statement each, so two copies of a report, or two members' reports of the
      // message, racing count once.
      const taken = await tx
        .insertInto("forward_reports")
        .values({ outbox_id: report.outboxId, report: forwardReportId(report.kind, forward.key) })
        .onConflict((oc) => oc.columns(["outbox_id", "report"]).doNothing())
        .returning("outbox_id")
        .executeTakeFirst();
      if (taken === undefined) return { kind: "duplicate" as const };
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
    // then. No index on expiry (migration 010 dropped it): the codes table holds only the codes of flows
    // of the last session lifetime (retention deletes them with their flows), so the scan is a small one.
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("codes")
            .select("codes.id")
            .where("codes.expires_at", ">", message.created_at)
            .where("codes.consumed_at", ">=", message.created_at)
            .where(sql<string>`lower(codes.email)`, "=", key),
        ),
      ),
    )
    .returning("undeliverable_at")
    .executeTakeFirst();
}
