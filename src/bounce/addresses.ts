import { domainToASCII } from "node:url";
import { sql, type Kysely, type Selectable } from "kysely";
import { preparedQuery } from "../store/prepared.ts";
import type { Database } from "../store/schema.ts";
import { storedWordsShown } from "../users/fields.ts";
import { otherHoldersQuery } from "../users/shared-address.ts";

/** Addresses are compared without regard to case (what mail servers do in practice). */
export function addressKey(email: string): string {
  return email.trim().toLowerCase();
}

/** An RFC 5322 dot-atom, Unicode letters allowed (RFC 6531): a local part that needs no quotes. */
const DOT_ATOM = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;

/**
 * An address as a report names it (a DSN's Final-Recipient without its type, a webhook's recipient) in the
 * form addressKey compares, so that the mailbox FAMOS mailed, written otherwise, is still that mailbox
 * (forward-reports.ts forwardOf): RFC 6533's utf-8 type encodes characters as \x{HEX} ("+" as \x{2B}); a
 * display name may come with it ("Parts Desk <parts@…>"); a local part may be quoted needlessly
 * ("service"@…); the domain may end in the root's dot, or be IDN in Unicode where FAMOS mailed xn-- (or the
 * other way round: domainToASCII makes both xn--).
 */
export function reportedAddressKey(reported: string): string {
  let address = reported.trim().replace(/\\x\{([0-9A-Fa-f]{1,6})\}/g, (whole, hex: string) => {
    const point = parseInt(hex, 16);
    return point <= 0x10ffff ? String.fromCodePoint(point) : whole;
  });
  address = /<([^<>]*)>\s*$/.exec(address)?.[1]?.trim() ?? address;
  const at = address.lastIndexOf("@");
  if (at < 0) return addressKey(address);
  let local = address.slice(0, at);
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(local);
  if (quoted) {
    const inner = quoted[1]!.replace(/\\(.)/g, "$1");
    if (DOT_ATOM.test(inner)) local = inner;
  }
  const domain = address.slice(at + 1).replace(/\.$/, "");
  return addressKey(`${local}@${domainToASCII(domain) || domain}`);
}

/** What bounces said about one address; null when it never bounced (or was cleared). */
export interface AddressProblems {
  undeliverableAt: number | null;
  undeliverableReason: string | null;
  softBounces: number;
  lastSoftBounceAt: number | null;
  lastSoftReason: string | null;
  /**
   * Undeliverable because its mailbox stayed full (record-bounce.ts softBounceSet), not because the address is
   * refused: the address is right, and emptying the mailbox (not a reset) is the fix (fullMailbox).
   */
  mailboxFull: boolean;
}

/**
 * Whether an address's undeliverable mark came from its full-mailbox reports (softBounceSet marks it at or
 * after the first of them; a hard bounce ends the count: hardBounceSet), the one rule for OTP capture, the
 * support user page and Needs attention.
 */
export function fullMailbox(row: { undeliverable_at: number | null; mailbox_soft_since: number | null }): boolean {
  return row.undeliverable_at !== null && row.mailbox_soft_since !== null && Number(row.undeliverable_at) >= Number(row.mailbox_soft_since);
}

export async function addressProblems(db: Kysely<Database>, email: string): Promise<AddressProblems | null> {
  const [row] = await addressRow(db, addressKey(email));
  return row ? problemsOf(row) : null;
}

/**
 * OTP capture's two reads of its address in one statement (issue 17): what bounces said of it
 * (addressProblems) and how many enabled login IDs other than `userId` have it as their OTP email
 * (otherEnabledHolders, users/shared-address.ts: the shared-mailbox rule keeps its one home there).
 * Both answers come from one statement's snapshot, where the two reads each had their own.
 */
export async function addressProblemsAndHolders(db: Kysely<Database>, email: string, userId: string): Promise<{ problems: AddressProblems | null; otherHolders: number }> {
  const [row] = await addressRowAndHolders(db, addressKey(email), email.toLowerCase(), userId);
  return { problems: row!.address_key === null ? null : problemsOf(row as AddressRow), otherHolders: Number(row!.other_holders) };
}

type AddressRow = Selectable<Database["mail_addresses"]>;

function problemsOf(row: AddressRow): AddressProblems | null {
  if (row.undeliverable_at === null && row.soft_bounces === 0) return null;
  return {
    undeliverableAt: row.undeliverable_at,
    undeliverableReason: storedWordsShown(row.undeliverable_reason),
    softBounces: row.soft_bounces,
    lastSoftBounceAt: row.last_soft_bounce_at,
    lastSoftReason: storedWordsShown(row.last_soft_reason),
    mailboxFull: fullMailbox(row),
  };
}

/**
 * A code sent to the address was confirmed: mail reaches it, whatever earlier bounces said. Only an
 * address that has a row (it bounced once) is written, so a normal sign-in adds no row.
 */
export async function markAddressWorking(db: Kysely<Database>, email: string, now: number): Promise<void> {
  await clearAddress(db, addressKey(email), now);
}

// Issue 17: once per code step each; built and compiled once.
const addressRow = preparedQuery((db, key: string) => db.selectFrom("mail_addresses").selectAll().where("address_key", "=", key));
/** One row always: the address's row or nulls (the left join), and the count beside it. */
const addressRowAndHolders = preparedQuery((db, key: string, lowerEmail: string, userId: string) =>
  db
    .selectFrom(db.selectNoFrom(sql<number>`1`.as("one")).as("one"))
    .leftJoin("mail_addresses", (join) => join.on("mail_addresses.address_key", "=", key))
    .selectAll("mail_addresses")
    .select(otherHoldersQuery(db, lowerEmail, userId).as("other_holders")),
);
const clearAddress = preparedQuery((db, key: string, now: number) =>
  db
    .updateTable("mail_addresses")
    .set({ undeliverable_at: null, undeliverable_reason: null, soft_bounces: 0, last_soft_bounce_at: null, last_soft_reason: null, mailbox_soft_bounces: 0, mailbox_soft_since: null, forward_bounces: 0, confirmed_at: now, updated_at: now })
    .where("address_key", "=", key),
);

export interface UndeliverableUser {
  userId: string;
  loginId: string;
  fullName: string;
  partnerNumber: string;
  email: string;
  /** The address is the user's confirmed OTP email (else the one waiting for its code). */
  confirmed: boolean;
  at: number;
  reason: string | null;
  /** Undeliverable because its mailbox stayed full (fullMailbox). */
  mailboxFull: boolean;
}

/**
 * Users whose OTP email, or the address waiting for its code, cannot be delivered to: the console's "Needs attention".
 * One branch per column, each matched as an address key through its index (migration 014): an OR of
 * both columns in the join is served by no index, and PostgreSQL then read every account for each
 * record (31 s with 20,000 users and 2,000 records, most of them of addresses nobody has any more).
 */
export async function undeliverableUsers(db: Kysely<Database>, limit = 200): Promise<UndeliverableUser[]> {
  const holders = (column: "u.otp_email" | "u.pending_email") =>
    db
      .selectFrom("mail_addresses as a")
      // `address_key || ''` is address_key: without its column's TEXT affinity, which SQLite would apply to
      // the indexed expression and so could not use users_*_email_key; it read every account instead
      // (SCAN u) and looked each one's address up among the records.
      .innerJoin("users as u", (join) => join.on((eb) => eb(sql<string>`lower(trim(${sql.ref(column)}))`, "=", sql<string>`${sql.ref("a.address_key")} || ''`)))
      .select(["a.address_key", "u.id", "u.login_id", "u.full_name", "u.partner_number", "u.otp_email", "u.pending_email", "a.undeliverable_at", "a.undeliverable_reason", "a.mailbox_soft_since"])
      .where("a.undeliverable_at", "is not", null)
      // A leaver (disabled) signs in no more: their dead mailbox is nobody's to fix.
      .where("u.disabled_at", "is", null);
  const rows = await holders("u.otp_email").union(holders("u.pending_email")).orderBy("undeliverable_at", "desc").limit(limit).execute();
  return rows.map((r) => {
    const confirmed = r.otp_email !== null && addressKey(r.otp_email) === r.address_key;
    const email = confirmed ? r.otp_email! : r.pending_email!;
    return { userId: r.id, loginId: r.login_id, fullName: r.full_name, partnerNumber: r.partner_number, email, confirmed, at: r.undeliverable_at!, reason: storedWordsShown(r.undeliverable_reason), mailboxFull: fullMailbox(r) };
  });
}
