import { sql, type Kysely } from "kysely";
import type { Dialect } from "./database.ts";
import type { Database } from "./schema.ts";

/**
 * A start's pass over every row made under a key derived from FAMOS_SECRET (key_fingerprints, migration
 * 023): `kept` names the key every row was last found under, `next` the key a pass is reading them
 * under (gone when it is done; left by a pass that stopped half-way or found rows under another key, so
 * the next start reads them again). One rule for the login ID digests (src/users/login-digest.ts) and
 * the authenticator-app secrets (src/strong-factors/previous-secret.ts).
 *
 * Rows are written meanwhile by other instances, some under another key (during a rolling change of
 * FAMOS_SECRET). So the pass keeps `next` first, and a writer under another key forgets the pass's
 * fingerprints (or its own row's work) from then on; the pass keeps its key as `kept` only when `next`
 * is still its own at the end. A row another instance is writing in a transaction not yet committed
 * (PostgreSQL, read committed) was decided against the fingerprints as they were, and the pass's reads
 * cannot see it: so on PostgreSQL `next` is kept under a SHARE lock of the rows' table, which waits for
 * every transaction that wrote one to commit (and holds new ones back only until `next` is committed).
 * Locks in that order (the rows' table, then key_fingerprints), a request's transaction writes
 * key_fingerprints last (SecondFactor.lastly): one that wrote it and then the user's row deadlocked
 * with a start's login-digest pass on PostgreSQL.
 */
export interface KeyedRows {
  kept: string;
  next: string;
  table: "users" | "authenticator_apps";
}

/** Kept and next as they are now, in one read (null: none). */
function keyedState(db: Kysely<Database>, rows: KeyedRows) {
  return db
    .selectNoFrom((eb) => [eb.selectFrom("key_fingerprints").select("fingerprint").where("purpose", "=", rows.kept).as("kept"), eb.selectFrom("key_fingerprints").select("fingerprint").where("purpose", "=", rows.next).as("next")])
    .executeTakeFirstOrThrow();
}

/** Whether every row was last found under this key and no pass is half-way: one read. */
export async function keyedRowsUnchanged(db: Kysely<Database>, rows: KeyedRows, fingerprint: string): Promise<boolean> {
  const state = await keyedState(db, rows);
  return state.kept === fingerprint && state.next == null;
}

/** A pass under `fingerprint` begins: kept as `next`, after every writer of the rows so far has committed. */
export async function keyedPassBegins(db: Kysely<Database>, dialect: Dialect, rows: KeyedRows, fingerprint: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (dialect === "postgres") await sql`lock table ${sql.table(rows.table)} in share mode`.execute(tx);
    await takeFingerprints(tx, dialect);
    await keepFingerprint(tx, rows.next, fingerprint);
  });
}

/**
 * The pass read every row under its key: kept as the rows' own, unless another pass or a writer under
 * another key took `next` meanwhile (its rows and this one's are mixed): `next` is then left as this
 * key's for the next start to read them all again. True when kept.
 */
export async function keyedPassDone(db: Kysely<Database>, dialect: Dialect, rows: KeyedRows, fingerprint: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await takeFingerprints(tx, dialect);
    const state = await keyedState(tx, rows);
    if (state.next != null ? state.next !== fingerprint : state.kept !== fingerprint) {
      await keepFingerprint(tx, rows.next, fingerprint);
      return false;
    }
    await keepFingerprint(tx, rows.kept, fingerprint);
    await tx.deleteFrom("key_fingerprints").where("purpose", "=", rows.next).execute();
    return true;
  });
}

/** A row written under `fingerprint`: a pass's fingerprints of another key are forgotten, so the next start reads every row again. */
export async function forgetOtherKeys(tx: Kysely<Database>, rows: KeyedRows, fingerprint: string): Promise<void> {
  await tx.deleteFrom("key_fingerprints").where("purpose", "in", [rows.kept, rows.next]).where("fingerprint", "<>", fingerprint).execute();
}

/** Starts' writes of the fingerprints one at a time (SQLite's one writer does it already). */
async function takeFingerprints(tx: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === "postgres") await sql`lock table key_fingerprints in share row exclusive mode`.execute(tx);
}

export async function keepFingerprint(db: Kysely<Database>, purpose: string, fingerprint: string): Promise<void> {
  await db
    .insertInto("key_fingerprints")
    .values({ purpose, fingerprint })
    .onConflict((oc) => oc.column("purpose").doUpdateSet({ fingerprint }))
    .execute();
}
