import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Issue 17: each commit that writes an event writes a page of SQLite's log for every b-tree of the
// audit table (two such commits in a sign-in). Two indexes served one question, whose events are
// about this login ID: audit_subject (subject, time), for the user overview's exact match and the
// erasure's second pass (`subject = pseudonym`), and audit_subject_key (lower(trim(subject))), for
// erasure and the console. One index on (lower(trim(subject)), time) serves both: the user overview
// now compares as the console does (audit/audit.ts), and the erasure's second pass finds the
// pseudonym's rows by the same expression, the exact match kept as a filter (a pseudonym is
// "erased-" and random base64url, which lower() could fold onto another's).
// Fragments with no parameters (sql, never sql.raw: security/input's ASVS 5.3.4 check), spliced into
// the function's and the trigger's text.
const PASS_BEFORE = {
  postgres: sql`WHERE subject = pseudonym AND position(email in detail) > 0`,
  sqlite: sql`WHERE NEW.email IS NOT NULL AND subject = NEW.pseudonym AND instr(detail, NEW.email) > 0`,
};
const PASS_AFTER = {
  postgres: sql`WHERE lower(trim(subject)) = lower(pseudonym) AND subject = pseudonym AND position(email in detail) > 0`,
  sqlite: sql`WHERE NEW.email IS NOT NULL AND lower(trim(subject)) = lower(NEW.pseudonym) AND subject = NEW.pseudonym AND instr(detail, NEW.email) > 0`,
};

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX audit_subject_key_time ON audit (lower(trim(subject)), time)`.execute(db);
  await sql`DROP INDEX audit_subject_key`.execute(db);
  await sql`DROP INDEX audit_subject`.execute(db);
  await pseudonymise(db, PASS_AFTER);
}

export async function down(db: Kysely<any>): Promise<void> {
  await pseudonymise(db, PASS_BEFORE);
  await db.schema.createIndex("audit_subject").on("audit").columns(["subject", "time"]).execute();
  await sql`CREATE INDEX audit_subject_key ON audit (lower(trim(subject)))`.execute(db);
  await sql`DROP INDEX IF EXISTS audit_subject_key_time`.execute(db);
}

/** Migration 003's pseudonymise function (PostgreSQL) or trigger (SQLite), with the second pass's WHERE given. */
async function pseudonymise(db: Kysely<any>, pass: typeof PASS_AFTER): Promise<void> {
  if (isPostgres(db)) {
    await sql`CREATE OR REPLACE FUNCTION famos_audit_pseudonymise(login text, pseudonym text, emails text[]) RETURNS integer LANGUAGE plpgsql AS $$
    DECLARE changed integer; email text;
    BEGIN
      PERFORM set_config('famos.audit_rewrite', 'on', true);
      UPDATE audit SET
        actor = CASE WHEN lower(trim(actor)) = lower(login) THEN pseudonym ELSE actor END,
        subject = CASE WHEN lower(trim(subject)) = lower(login) THEN pseudonym ELSE subject END,
        ip = CASE WHEN lower(trim(subject)) = lower(login) OR lower(trim(actor)) = lower(login) THEN NULL ELSE ip END,
        user_agent = CASE WHEN lower(trim(subject)) = lower(login) OR lower(trim(actor)) = lower(login) THEN NULL ELSE user_agent END,
        detail = replace(detail, login, pseudonym)
      WHERE lower(trim(subject)) = lower(login) OR lower(trim(actor)) = lower(login);
      GET DIAGNOSTICS changed = ROW_COUNT;
      FOREACH email IN ARRAY emails LOOP
        UPDATE audit SET detail = replace(detail, email, pseudonym) ${pass.postgres};
      END LOOP;
      PERFORM set_config('famos.audit_rewrite', 'off', true);
      RETURN changed;
    END $$`.execute(db);
    return;
  }
  await sql`DROP TRIGGER famos_audit_pseudonymise`.execute(db);
  await sql`CREATE TRIGGER famos_audit_pseudonymise INSTEAD OF INSERT ON famos_audit_pseudonymise BEGIN
      INSERT INTO audit_gate (open) VALUES (1);
      UPDATE audit SET
        actor = CASE WHEN lower(trim(actor)) = lower(NEW.login) THEN NEW.pseudonym ELSE actor END,
        subject = CASE WHEN lower(trim(subject)) = lower(NEW.login) THEN NEW.pseudonym ELSE subject END,
        ip = CASE WHEN lower(trim(subject)) = lower(NEW.login) OR lower(trim(actor)) = lower(NEW.login) THEN NULL ELSE ip END,
        user_agent = CASE WHEN lower(trim(subject)) = lower(NEW.login) OR lower(trim(actor)) = lower(NEW.login) THEN NULL ELSE user_agent END,
        detail = replace(detail, NEW.login, NEW.pseudonym)
      WHERE lower(trim(subject)) = lower(NEW.login) OR lower(trim(actor)) = lower(NEW.login);
      UPDATE audit SET detail = replace(detail, NEW.email, NEW.pseudonym)
      ${pass.sqlite};
      DELETE FROM audit_gate;
    END`.execute(db);
}

function isPostgres(db: Kysely<any>): boolean {
  // The adapter's class name tells the dialect without a query.
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
