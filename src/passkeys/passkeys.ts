import type { Kysely } from "kysely";
import { preparedQuery } from "../store/prepared.ts";
import type { Database, PasskeysTable } from "../store/schema.ts";

export type Passkey = PasskeysTable;

/** What Profile, the support user page and `famos user factors` show of a passkey: never its key. */
export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** Synced between devices (the backup state flag at the last use). */
  backedUp: boolean;
}

/** A user's passkeys, oldest first. */
export async function listPasskeys(db: Kysely<Database>, userId: string): Promise<PasskeySummary[]> {
  const rows = await passkeysOf(db, userId);
  return rows.map(passkeySummary);
}

/** A passkey's row as shown. */
export function passkeySummary(row: Pick<Passkey, "id" | "name" | "created_at" | "last_used_at" | "backed_up">): PasskeySummary {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at), lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at), backedUp: row.backed_up === 1 };
}

// Issue 17: every Profile page lists them; built and compiled once.
const passkeysOf = preparedQuery((db, userId: string) => db.selectFrom("passkeys").selectAll().where("user_id", "=", userId).orderBy("created_at").orderBy("id"));

export async function userPasskeys(db: Kysely<Database>, userId: string): Promise<Passkey[]> {
  return db.selectFrom("passkeys").selectAll().where("user_id", "=", userId).execute();
}

export async function hasPasskeys(db: Kysely<Database>, userId: string): Promise<boolean> {
  return (await db.selectFrom("passkeys").select("id").where("user_id", "=", userId).limit(1).executeTakeFirst()) !== undefined;
}

/** One of the user's passkeys by the credential ID the browser answered with; another user's is none. */
export async function findUserPasskey(db: Kysely<Database>, userId: string, credentialId: string): Promise<Passkey | undefined> {
  return db.selectFrom("passkeys").selectAll().where("user_id", "=", userId).where("credential_id", "=", credentialId).executeTakeFirst();
}

/** Removes one of the user's passkeys; the name it had, or null when there was none such. */
export async function removePasskey(db: Kysely<Database>, userId: string, id: string): Promise<string | null> {
  const row = await db.deleteFrom("passkeys").where("user_id", "=", userId).where("id", "=", id).returning("name").executeTakeFirst();
  return row?.name ?? null;
}

/** Every passkey of the user goes (support removal, account erase); how many there were. Call inside the caller's transaction. */
export async function removeAllPasskeys(trx: Kysely<Database>, userId: string): Promise<number> {
  const result = await trx.deleteFrom("passkeys").where("user_id", "=", userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
