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
  // One branch per column, each found through its expression index (migration 014); an OR across
  // the join could use none of them and read every account for each batch.
  const key = (column: string) => sql<string>`lower(trim(${sql.ref(column)}))`;
  const rows = await db
    .selectFrom("users")
    .select("otp_email as email")
    .where(key("otp_email"), "in", keys)
    .$if(exceptUserId !== null, (q) => q.where("id", "<>", exceptUserId!))
    .union(
      db
        .selectFrom("users")
        .select("pending_email as email")
        .where(key("pending_email"), "in", keys)
        .$if(exceptUserId !== null, (q) => q.where("id", "<>", exceptUserId!)),
    )
    .union(
      db
        .selectFrom("rollout_users")
        .select("contact_email as email")
        .where(key("contact_email"), "in", keys)
        .$if(exceptUserId !== null, (q) => q.where("user_id", "<>", exceptUserId!)),
    )
    .execute();
  const used = new Set(rows.map((o) => o.email).filter((e): e is string => e !== null).map(addressKey));
  const gone = keys.filter((k) => !used.has(k));
  if (gone.length === 0) return 0;
  return Number((await db.deleteFrom("mail_addresses").where("address_key", "in", gone).executeTakeFirst()).numDeletedRows);
}
