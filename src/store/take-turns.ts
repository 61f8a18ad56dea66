import type { Kysely } from "kysely";
import type { Dialect } from "./database.ts";
import type { Database } from "./schema.ts";

/**
 * For a transaction that replaces what one owner has (deletes the old rows, inserts the new), or
 * counts it against a limit before adding to it (the account's codes this hour): two at once must take
 * turns. On PostgreSQL each delete or count sees only committed rows, so two such transactions would
 * each keep (or not count) the other's new rows; locking the owner's row first makes the second wait,
 * and its delete or count, a statement begun after the first commits, sees what the first inserted.
 * SQLite's one writer already runs them one after the other. Call it before the first such read.
 *
 * Also the one order of locks for a transaction that writes a user's codes, flows or sessions and the
 * user's row: the user's row first, as a support reset, a disable or a new enrolment address take it
 * (they update the user, then void the codes and end the sessions). A confirmation that used its code
 * up and only then wrote the user waited for the reset's user row while the reset waited for that
 * code, and PostgreSQL ended one of them with "deadlock detected" — an error page.
 *
 * FOR NO KEY UPDATE, not FOR UPDATE: it makes a second taker wait all the same, but not a row that
 * names the owner by foreign key (whose check takes FOR KEY SHARE on the owner). A transaction that
 * inserted such a row first (a flow, then its code) would otherwise need to raise its own key-share
 * lock to FOR UPDATE past the other's: two of them at once were a deadlock.
 */
export async function takeTurnsOn(tx: Kysely<Database>, dialect: Dialect, owner: { table: "users" | "sessions"; id: string }): Promise<void> {
  if (dialect !== "postgres") return;
  if (owner.table === "users") await tx.selectFrom("users").select("id").where("id", "=", owner.id).forNoKeyUpdate().execute();
  else await tx.selectFrom("sessions").select("id").where("id", "=", owner.id).forNoKeyUpdate().execute();
}
