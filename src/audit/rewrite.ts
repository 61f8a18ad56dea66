import { sql, type Kysely } from "kysely";
import type { Dialect } from "../store/database.ts";
import { keyForms } from "./audit.ts";
import type { Database } from "../store/schema.ts";

/**
 * The only ways FAMOS changes or removes audit rows, each a function defined by migration 003 (a
 * stored function on PostgreSQL, an INSTEAD OF trigger on a view on SQLite). The append-only trigger
 * lets nothing else through, and even these keep every kept event's name and time.
 */

/**
 * Erasure: the person's login ID becomes `pseudonym` as actor and subject, their addresses and user
 * agents go. Migration 003's function and trigger compare lower(trim(column)) with lower(login), so
 * they are asked once per form of it (keyForms): SQLite's lower() folds ASCII alone, and her events
 * keep the login ID as written and as its key ("Özge.Leaver", "özge.leaver").
 */
export async function pseudonymiseAudit(db: Kysely<Database>, dialect: Dialect, login: string, pseudonym: string, emails: string[]): Promise<number> {
  let events = 0;
  for (const form of keyForms(db, login)) {
    if (dialect === "postgres") {
      events += firstCount(await sql<{ n: number }>`select famos_audit_pseudonymise(${form}, ${pseudonym}, ${emails}::text[]) as n`.execute(db));
      continue;
    }
    events += firstCount(await sql<{ n: number }>`select count(*) as n from audit where lower(trim(subject)) = ${form} or lower(trim(actor)) = ${form}`.execute(db));
    for (const email of emails.length > 0 ? emails : [null]) {
      await sql`insert into famos_audit_pseudonymise (login, pseudonym, email) values (${form}, ${pseudonym}, ${email})`.execute(db);
    }
  }
  return events;
}

/** Retention: removes up to `batch` of the oldest events before `before`. */
export async function expireAudit(db: Kysely<Database>, dialect: Dialect, before: number, batch: number): Promise<number> {
  if (dialect === "postgres") return firstCount(await sql<{ n: number }>`select famos_audit_expire(${before}::bigint, ${batch}::integer) as n`.execute(db));
  return sqliteBatch(
    db,
    sql<{ n: number }>`select count(*) as n from (select id from audit where time < ${before} limit ${batch}) t`,
    sql`insert into famos_audit_expire (before, batch) values (${before}, ${batch})`,
  );
}

/** Retention: replaces (with nothing) the address and user agent of up to `batch` events before `before`. */
export async function scrubAudit(db: Kysely<Database>, dialect: Dialect, before: number, batch: number): Promise<number> {
  if (dialect === "postgres") return firstCount(await sql<{ n: number }>`select famos_audit_scrub(${before}::bigint, ${batch}::integer) as n`.execute(db));
  return sqliteBatch(
    db,
    sql<{ n: number }>`select count(*) as n from (select id from audit where (ip is not null or user_agent is not null) and time < ${before} limit ${batch}) t`,
    sql`insert into famos_audit_scrub (before, batch) values (${before}, ${batch})`,
  );
}

function firstCount(result: { rows: { n: number }[] }): number {
  return Number(result.rows[0]?.n ?? 0);
}

/** SQLite reports no row count from inside a trigger: the same batch is counted first, in one transaction. */
async function sqliteBatch(db: Kysely<Database>, count: ReturnType<typeof sql<{ n: number }>>, call: ReturnType<typeof sql>): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const n = firstCount(await count.execute(tx));
    if (n > 0) await call.execute(tx);
    return n;
  });
}
