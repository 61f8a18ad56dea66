import { CompiledQuery, type Kysely } from "kysely";
import type { Database } from "./schema.ts";

const SET = CompiledQuery.raw("savepoint kept_so_far");
const BACK = CompiledQuery.raw("rollback to savepoint kept_so_far");

/** What `run` did: its value, or the error it threw once its writes were undone (those before kept). */
export type Undone<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `run` inside `tx` so that an error in it undoes its own writes only: what `tx` wrote before is
 * kept and commits with the transaction (SAVEPOINT, and ROLLBACK TO it on an error; the same text on
 * SQLite and PostgreSQL). The savepoint is not released: COMMIT ends it with the transaction. Should
 * the ROLLBACK TO fail too (a connection lost), that error goes on and the whole transaction rolls back.
 * Raw text, never compiled (issue 17), as BEGIN and COMMIT are.
 */
export async function undoingOnError<T>(tx: Kysely<Database>, run: () => Promise<T>): Promise<Undone<T>> {
  await tx.executeQuery(SET);
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    await tx.executeQuery(BACK);
    return { ok: false, error };
  }
}
