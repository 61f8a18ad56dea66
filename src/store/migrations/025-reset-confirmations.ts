import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// Support's OTP email reset cleared users.otp_email_confirmed_at until it learned to keep it (an address
// was confirmed once): the rollout counts the column (alwaysTwoFactor, src/rollout/applies.ts), so an
// account reset before then opens on the password alone until its 2FA wave, and is offered "Later" after
// it. This gives the column back to accounts that still have no OTP email and whose audit trail holds a
// reset ("email.reset") that cleared a confirmed address (its detail's previousEmail not null: a reset of
// an address only typed, never confirmed, proves nothing), only where it is NULL. The value: that reset's
// time, the latest one's when there were several — an address was confirmed before it, and nothing
// read the time but whether there is one. An account whose reset event the retention job removed
// cannot be found here.
// The reset writes the login ID as it is (subject), and its detail as JSON without spaces, an address
// quoted and none as `null`, so `"previousEmail":"` matches an address and never text inside another
// quoted value (its quotes would be escaped). The subject is compared through audit_subject_key_time's
// expression (016), the exact login ID kept as the filter. Fragments without parameters (sql, never sql.raw: security/input's
// ASVS 5.3.4 check).
const LAST_RESET_OF_A_CONFIRMED_ADDRESS = sql`(
  SELECT max(audit.time) FROM audit
  WHERE lower(trim(audit.subject)) = lower(trim(users.login_id))
    AND audit.subject = users.login_id
    AND audit.event = 'email.reset'
    AND audit.detail LIKE '%"previousEmail":"%'
)`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`UPDATE users SET otp_email_confirmed_at = ${LAST_RESET_OF_A_CONFIRMED_ADDRESS}
    WHERE otp_email IS NULL AND otp_email_confirmed_at IS NULL AND ${LAST_RESET_OF_A_CONFIRMED_ADDRESS} IS NOT NULL`.execute(db);
}

// A repair of data: what it set cannot be told from a confirmation kept by the reset since, and both
// mean the same (an address was confirmed once). Nothing to undo.
export async function down(): Promise<void> {}
