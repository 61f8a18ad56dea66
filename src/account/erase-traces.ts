import { sql, type Kysely } from "kysely";
import { keyForms } from "../audit/audit.ts";
import { addressKey } from "../bounce/addresses.ts";
import { forgetUnusedAddresses } from "../bounce/forget.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";

/**
 * What names a person besides the account row, for `famos user delete --erase` (GDPR art. 17): every
 * address she had — the OTP email and the pending one of the day, and also the rollout's contact
 * address, the addresses of her flows and mail, and those her events remember (an email change's
 * `from`, a reset's `previousEmail`, a bounce's `to`), which a support reset or an email change had
 * already taken off the account — and the forms of her login ID typed at sign-in (`detail.typed`).
 * Longest first, so that no shorter value is replaced inside a longer one before it.
 */
export async function personalStrings(db: Kysely<Database>, user: User): Promise<string[]> {
  const found = new Set<string>([user.otp_email, user.pending_email].filter((e): e is string => e !== null));
  const contact = await db.selectFrom("rollout_users").select("contact_email").where("user_id", "=", user.id).executeTakeFirst();
  if (contact?.contact_email) found.add(contact.contact_email);
  for (const flow of await db.selectFrom("flows").select("email").where("user_id", "=", user.id).execute()) found.add(flow.email);
  for (const mail of await db.selectFrom("outbox").select("recipient").where("user_id", "=", user.id).execute()) found.add(mail.recipient);
  const events = await db
    .selectFrom("audit")
    .select("detail")
    .where(sql<string>`lower(trim(subject))`, "in", keyForms(db, user.login_key))
    .where("detail", "is not", null)
    .execute();
  for (const event of events) collectStrings(JSON.parse(event.detail ?? "{}") as unknown, user.login_key, found);
  return [...found].filter((s) => s.trim() !== "").sort((a, b) => b.length - a.length);
}

/** The string values of an event's detail that are an address or a form of the login ID. */
function collectStrings(value: unknown, key: string, into: Set<string>): void {
  if (typeof value === "string") {
    if (value.includes("@") || value.trim().toLowerCase() === key) into.add(value);
  } else if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) collectStrings(inner, key, into);
  }
}

/** What FAMOS learnt about the delivery (bounces) of her addresses goes with them (bounce/forget.ts). */
export async function forgetAddresses(db: Kysely<Database>, userId: string, strings: string[]): Promise<void> {
  await forgetUnusedAddresses(db, [...new Set(strings.filter((s) => s.includes("@")).map(addressKey))], userId);
}
