import { sql, type Kysely } from "kysely";
import type { Database } from "../store/schema.ts";
import { addressKey } from "./addresses.ts";

/**
 * Removes what bounces taught FAMOS about these addresses (lower-cased keys), except for an address an
 * account still has — as its OTP email, the one waiting for its code, or the rollout's contact address —
 * whose record still keeps mail from going to a dead mailbox (a dealership's shared mailbox is several
 * people's). `exceptUserId`: an account about to go (erasure), whose addresses count as nobody's.
 * One home for "which bounce records may go", for erasure and for the retention job. Returns how many went.
 */
export async function forgetUnusedAddresses(db: Kysely<Database>, keys: readonly string[], exceptUserId: string | null = null): Promise<number> {
  if (keys.length === 0) return 0;
  let holders = db
    .selectFrom("users")
    .leftJoin("rollout_users", "rollout_users.user_id", "users.id")
    .select(["users.otp_email", "users.pending_email", "rollout_users.contact_email"])
    .where((eb) =>
      eb.or([
        eb(sql<string>`lower(trim(users.otp_email))`, "in", keys),
        eb(sql<string>`lower(trim(users.pending_email))`, "in", keys),
        eb(sql<string>`lower(trim(rollout_users.contact_email))`, "in", keys),
      ]),
    );
  if (exceptUserId !== null) holders = holders.where("users.id", "<>", exceptUserId);
  const rows = await holders.execute();
  const used = new Set(rows.flatMap((o) => [o.otp_email, o.pending_email, o.contact_email]).filter((e): e is string => e !== null).map(addressKey));
  const gone = keys.filter((k) => !used.has(k));
  if (gone.length === 0) return 0;
  return Number((await db.deleteFrom("mail_addresses").where("address_key", "in", gone).executeTakeFirst()).numDeletedRows);
}
