import type { Kysely } from "kysely";
import type { Dialect } from "./database.ts";
import type { Database } from "./schema.ts";

/**
 * For a transaction that replaces what one owner has (deletes the old rows, inserts the new): two at
 * once must take turns. On PostgreSQL each delete sees only committed rows, so two such transactions
 * would each keep the other's new rows; locking the owner's row first makes the second wait, and its
 * delete, a statement begun after the first commits, removes what the first inserted. SQLite's one
 * writer already runs them one after the other. Call it first in the transaction.
 */
export async function takeTurnsOn(tx: Kysely<Database>, dialect: Dialect, owner: { table: "users" | "sessions"; id: string }): Promise<void> {
  if (dialect !== "postgres") return;
  if (owner.table === "users") await tx.selectFrom("users").select("id").where("id", "=", owner.id).forUpdate().execute();
  else await tx.selectFrom("sessions").select("id").where("id", "=", owner.id).forUpdate().execute();
}
