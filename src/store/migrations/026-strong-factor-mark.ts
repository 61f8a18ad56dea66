import { sql, type Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// users.strong_factor_at: since when the user has a passkey or a confirmed authenticator app (null:
// neither), kept by markStrongFactors (src/strong-factors/factors.ts) in every transaction that adds or
// removes one. The rollout's rule counts it (alwaysTwoFactor, src/rollout/applies.ts) from the user's
// row, which each request already reads with its session: no query more per sign-in or request.
// Filled here for the factors already set up: the earliest one's time.
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter.constructor.name.startsWith("Postgres");
  await db.schema.alterTable("users").addColumn("strong_factor_at", postgres ? "bigint" : "integer").execute();
  await sql`UPDATE users SET strong_factor_at = (
      SELECT min(t) FROM (
        SELECT passkeys.created_at AS t FROM passkeys WHERE passkeys.user_id = users.id
        UNION ALL
        SELECT authenticator_apps.confirmed_at AS t FROM authenticator_apps WHERE authenticator_apps.user_id = users.id AND authenticator_apps.confirmed_at IS NOT NULL
      ) AS factors
    )
    WHERE EXISTS (SELECT 1 FROM passkeys WHERE passkeys.user_id = users.id)
       OR EXISTS (SELECT 1 FROM authenticator_apps WHERE authenticator_apps.user_id = users.id AND authenticator_apps.confirmed_at IS NOT NULL)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("users").dropColumn("strong_factor_at").execute();
}
