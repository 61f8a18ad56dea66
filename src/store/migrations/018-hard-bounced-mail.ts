import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// `famos rollout announce` lists the users whose latest announcement bounced hard, and a moved wave
// leaves them unmarked (rollout/announce.ts bouncedAnnouncements). It read every announcement in the
// outbox, and the outbox keeps every mail (FAMOS_MAIL_KEEP): a year of a 20,000-person network is
// ~30,000 announcements among ~200,000 code mails, read whole on each run. Hard bounces are few: this
// index holds only them, by kind and user, and each one's later announcements are found through
// outbox_user (user_id, created_at).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX outbox_hard_bounced ON outbox (kind, user_id) WHERE bounce_kind = 'hard'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS outbox_hard_bounced`.execute(db);
}
