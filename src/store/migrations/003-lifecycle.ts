import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Account lifecycle (issue 11): disabled accounts, temporary passwords, indexes for the retention job,
// and the migration-defined functions that are the only ways to change or remove audit rows.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = isPostgres(db);
  const time = postgres ? "bigint" : "integer";

  await db.schema.alterTable("users").addColumn("disabled_at", time).execute();
  // Non-null: the password is a temporary one set by support, usable until then (0 once used).
  await db.schema.alterTable("users").addColumn("password_temporary_until", time).execute();

  // The retention job deletes in bounded batches by time: each batch is an index range, never a scan.
  await db.schema.createIndex("sessions_expires").on("sessions").column("expires_at").execute();
  await db.schema.createIndex("flows_created").on("flows").column("created_at").execute();
  await db.schema.createIndex("codes_expires").on("codes").column("expires_at").execute();
  await db.schema.createIndex("outbox_sent").on("outbox").column("sent_at").execute();
  await db.schema.createIndex("throttles_updated").on("throttles").column("updated_at").execute();
  // Events whose address and user agent are still kept: the scrub finds the next batch without
  // walking the rows it already scrubbed.
  await sql`CREATE INDEX audit_unscrubbed ON audit (time) WHERE ip IS NOT NULL OR user_agent IS NOT NULL`.execute(db);

  // One instance at a time runs a periodic job (the retention job): whoever holds the lease.
  await db.schema
    .createTable("job_leases")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("lease_until", time, (c) => c.notNull())
    .execute();
  await db.insertInto("job_leases").values({ name: "cleanup", holder: "", lease_until: 0 }).execute();

  if (postgres) await postgresAuditFunctions(db);
  else await sqliteAuditFunctions(db);
}

/**
 * PostgreSQL: the append-only trigger lets a change through only while the transaction-local setting
 * famos.audit_rewrite is on, and only these functions turn it on (and off again before returning).
 * What they may do is fixed here: erase one person's identity, delete events past the keep time,
 * scrub addresses and user agents past the pseudonymise time. Event names and times never change.
 */
async function postgresAuditFunctions(db: Kysely<any>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION famos_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('famos.audit_rewrite', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        IF NEW.event = OLD.event AND NEW.time = OLD.time AND NEW.id = OLD.id THEN RETURN NEW; END IF;
      END IF;
      RAISE EXCEPTION 'the audit trail is append-only';
    END $$`.execute(db);

  await sql`CREATE FUNCTION famos_audit_pseudonymise(login text, pseudonym text, emails text[]) RETURNS integer LANGUAGE plpgsql AS $$
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
        UPDATE audit SET detail = replace(detail, email, pseudonym) WHERE subject = pseudonym AND position(email in detail) > 0;
      END LOOP;
      PERFORM set_config('famos.audit_rewrite', 'off', true);
      RETURN changed;
    END $$`.execute(db);

  await sql`CREATE FUNCTION famos_audit_expire(before bigint, batch integer) RETURNS integer LANGUAGE plpgsql AS $$
    DECLARE changed integer;
    BEGIN
      PERFORM set_config('famos.audit_rewrite', 'on', true);
      DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < before ORDER BY time LIMIT batch);
      GET DIAGNOSTICS changed = ROW_COUNT;
      PERFORM set_config('famos.audit_rewrite', 'off', true);
      RETURN changed;
    END $$`.execute(db);

  await sql`CREATE FUNCTION famos_audit_scrub(before bigint, batch integer) RETURNS integer LANGUAGE plpgsql AS $$
    DECLARE changed integer;
    BEGIN
      PERFORM set_config('famos.audit_rewrite', 'on', true);
      UPDATE audit SET ip = NULL, user_agent = NULL WHERE id IN (
        SELECT id FROM audit WHERE (ip IS NOT NULL OR user_agent IS NOT NULL) AND time < before ORDER BY time LIMIT batch);
      GET DIAGNOSTICS changed = ROW_COUNT;
      PERFORM set_config('famos.audit_rewrite', 'off', true);
      RETURN changed;
    END $$`.execute(db);
}

/**
 * SQLite has no stored functions: each operation is an INSTEAD OF INSERT trigger on a view (insert a
 * row to call it). The append-only triggers are recreated to let a change through only while
 * audit_gate holds a row, which only these triggers insert and delete again within their own statement.
 */
async function sqliteAuditFunctions(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE audit_gate (open integer NOT NULL)`.execute(db);
  await sql`DROP TRIGGER audit_no_update`.execute(db);
  await sql`DROP TRIGGER audit_no_delete`.execute(db);
  await sql`CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    WHEN NOT EXISTS (SELECT 1 FROM audit_gate) OR NEW.event IS NOT OLD.event OR NEW.time IS NOT OLD.time OR NEW.id IS NOT OLD.id
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit WHEN NOT EXISTS (SELECT 1 FROM audit_gate)
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`.execute(db);

  await sql`CREATE VIEW famos_audit_pseudonymise AS SELECT NULL AS login, NULL AS pseudonym, NULL AS email`.execute(db);
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
      WHERE NEW.email IS NOT NULL AND subject = NEW.pseudonym AND instr(detail, NEW.email) > 0;
      DELETE FROM audit_gate;
    END`.execute(db);

  await sql`CREATE VIEW famos_audit_expire AS SELECT NULL AS before, NULL AS batch`.execute(db);
  await sql`CREATE TRIGGER famos_audit_expire INSTEAD OF INSERT ON famos_audit_expire BEGIN
      INSERT INTO audit_gate (open) VALUES (1);
      DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < NEW.before ORDER BY time LIMIT NEW.batch);
      DELETE FROM audit_gate;
    END`.execute(db);

  await sql`CREATE VIEW famos_audit_scrub AS SELECT NULL AS before, NULL AS batch`.execute(db);
  await sql`CREATE TRIGGER famos_audit_scrub INSTEAD OF INSERT ON famos_audit_scrub BEGIN
      INSERT INTO audit_gate (open) VALUES (1);
      UPDATE audit SET ip = NULL, user_agent = NULL WHERE id IN (
        SELECT id FROM audit WHERE (ip IS NOT NULL OR user_agent IS NOT NULL) AND time < NEW.before ORDER BY time LIMIT NEW.batch);
      DELETE FROM audit_gate;
    END`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`DROP FUNCTION IF EXISTS famos_audit_pseudonymise(text, text, text[])`.execute(db);
    await sql`DROP FUNCTION IF EXISTS famos_audit_expire(bigint, integer)`.execute(db);
    await sql`DROP FUNCTION IF EXISTS famos_audit_scrub(bigint, integer)`.execute(db);
    await sql`CREATE OR REPLACE FUNCTION famos_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$`.execute(db);
  } else {
    // Dropping a view drops its INSTEAD OF trigger with it.
    await sql`DROP VIEW IF EXISTS famos_audit_pseudonymise`.execute(db);
    await sql`DROP VIEW IF EXISTS famos_audit_expire`.execute(db);
    await sql`DROP VIEW IF EXISTS famos_audit_scrub`.execute(db);
    await sql`DROP TRIGGER audit_no_update`.execute(db);
    await sql`DROP TRIGGER audit_no_delete`.execute(db);
    await sql`CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`.execute(db);
    await sql`CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`.execute(db);
    await sql`DROP TABLE IF EXISTS audit_gate`.execute(db);
  }
  await db.schema.dropTable("job_leases").ifExists().execute();
  for (const index of ["audit_unscrubbed", "throttles_updated", "outbox_sent", "codes_expires", "flows_created", "sessions_expires"]) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  await db.schema.alterTable("users").dropColumn("password_temporary_until").execute();
  await db.schema.alterTable("users").dropColumn("disabled_at").execute();
}

function isPostgres(db: Kysely<any>): boolean {
  // The adapter's class name tells the dialect without a query.
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
