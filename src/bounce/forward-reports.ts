import { createHash } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { Deps } from "../app/deps.ts";
import { addressKey, reportedAddressKey } from "./addresses.ts";
import type { BounceKind } from "./dsn.ts";
import { reasonText } from "./reason-text.ts";
import { passwordProvenCode } from "../mail/claims.ts";
import { maskMailbox } from "../platform/format.ts";
import { maskEmailsIn } from "../platform/mask-emails.ts";
import type { Database } from "../store/schema.ts";
import { FORWARD_REASON_MARK } from "../users/fields.ts";

/*
 * Reports of a forward of a message (forwardOf: a Final-Recipient other than the address mailed), the half of
 * recordBounce (record-bounce.ts) that tells them apart, takes each once and counts them on the address mailed.
 */

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
 * undeliverable, with this report's words after the mailbox forwarded to, masked (maskMailbox, maskEmailsIn: a
 * third person's address, shown to support; a display name with it dropped), so OTP capture, the support user page and Needs attention say so.
 */
export const FORWARD_BOUNCES = 3;
/** The forward reports one message takes (reportsFull): a group's dead members are a few, never more. */
export const FORWARD_REPORTS_PER_MESSAGE = 20;

/**
 * The reports of one DSN a message takes, recorded in the DSN's order: the address mailed's own taken first
 * (forwardOf null: its Final-Recipient is that address, or none is named), then its forwards', at most
 * FORWARD_REPORTS_PER_MESSAGE; FORWARD_REPORTS_PER_MESSAGE + 1 in all, so one forged DSN of a megabyte is not
 * thousands of transactions. Before, the first of the DSN's reports were taken whatever they were, and a DSN
 * listing that many forwards before the block naming the address mailed lost that block.
 */
export function reportsTaken<R extends { recipient: string | null }>(reports: R[], mailedTo: string): R[] {
  const own = reports.filter((r) => forwardOf(r.recipient, mailedTo) === null);
  const forwards = reports.filter((r) => forwardOf(r.recipient, mailedTo) !== null).slice(0, FORWARD_REPORTS_PER_MESSAGE);
  const taken = new Set([...own, ...forwards].slice(0, FORWARD_REPORTS_PER_MESSAGE + 1));
  return reports.filter((r) => taken.has(r));
}

export function forwardBounceSet(now: number, reason: string, forwardedTo: string) {
  const escalates = sql<boolean>`undeliverable_at is null and forward_bounces + 1 >= ${FORWARD_BOUNCES}`;
  const words = reasonText(`${FORWARD_REASON_MARK}${maskMailbox(forwardedTo)}: ${maskEmailsIn(reason)}`);
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
export async function forwardCounts(
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
            // Found by address (migration 032's codes_email_key on lower(email)), then bounded by expiry: the
            // codes of the last session lifetime are too many to read whole (200,000 for 20,000 users).
            .where("codes.expires_at", ">", message.created_at)
            .where("codes.created_at", "<", message.created_at + codeTtlMs)
            // lower() folds ASCII alone on SQLite, as addressKey folds here: every address FAMOS mails passed the
            // WHATWG rule (checkEmailEntry: ASCII only, email-rules.unit "refuses internationalised addresses").
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
 * The address a report names when it is not the one the message was mailed to (compared as addresses are,
 * reportedAddressKey, which reads the address out of `<…>` or `Name <…>` itself: the same mailbox written
 * otherwise is that mailbox), else null: `key` to compare, and `shown` as a page or terminal may show it
 * (reasonText: it is a stranger's text), as the server wrote it without a whole `<…>` around it. A
 * dealership's shared address (sales@…) that its own server forwards or expands to a staff member's mailbox
 * took the mail; a report that the staff member's mailbox is dead (its Final-Recipient) is that forward's.
 */
export function forwardOf(finalRecipient: string | null | undefined, mailedTo: string): { key: string; shown: string } | null {
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
export async function serializeAddress(deps: Deps, tx: Transaction<Database>, recipient: string): Promise<void> {
  if (deps.dialect !== "postgres") return;
  await sql`select pg_advisory_xact_lock(hashtext(${`forward:${addressKey(recipient)}`}))`.execute(tx);
}

/**
 * Whether a message has its FORWARD_REPORTS_PER_MESSAGE forward reports already: any more are taken as
 * duplicates, neither kept nor audited. Whoever holds a code mail's VERP return path could otherwise write a
 * report per invented Final-Recipient into the audit trail without end.
 */
export async function reportsFull(tx: Transaction<Database>, outboxId: string): Promise<boolean> {
  const { n } = await tx.selectFrom("forward_reports").select((eb) => eb.fn.countAll<number>().as("n")).where("outbox_id", "=", outboxId).executeTakeFirstOrThrow();
  return Number(n) >= FORWARD_REPORTS_PER_MESSAGE;
}

/** A forward report's identity on its message (forward_reports.report): its kind and the mailbox it names, digested. */
function forwardReportId(kind: BounceKind, key: string): string {
  return createHash("sha256").update(`${kind} ${key}`).digest("base64url");
}

/**
 * Whether the report is taken on its message (forward_reports), false when the same kind naming the same mailbox
 * was taken already (a relay's retry). Checked and written in one statement, so two copies of a report, or two
 * members' reports of the message, racing count once.
 */
export async function takeForwardReport(tx: Transaction<Database>, outboxId: string, kind: BounceKind, key: string): Promise<boolean> {
  const taken = await tx
    .insertInto("forward_reports")
    .values({ outbox_id: outboxId, report: forwardReportId(kind, key) })
    .onConflict((oc) => oc.columns(["outbox_id", "report"]).doNothing())
    .returning("outbox_id")
    .executeTakeFirst();
  return taken !== undefined;
}
