import { sql, type Kysely } from "kysely";
import { removeAllPasskeys } from "../passkeys/passkeys.ts";
import type { Database } from "../store/schema.ts";

/** Which second factors beyond the emailed code a user has (Profile, the console, `famos user factors`). */
export interface FactorSummary {
  passkeys: number;
  passkeysLastUsedAt: number | null;
  /** A confirmed authenticator app; null when none (or one still waiting for its first code). */
  app: { confirmedAt: number; lastUsedAt: number | null } | null;
  /** An app being set up: its secret was shown, no code from it typed yet. */
  appPending: boolean;
  recoveryCodesLeft: number;
  recoveryCodesLastUsedAt: number | null;
}

/**
 * The one aggregate of a user's strong factors. One statement (a sign-in asks up to four times):
 * each table is read through its user index, and a statement sees one snapshot of all three.
 */
export async function factorsOf(db: Kysely<Database>, userId: string): Promise<FactorSummary> {
  const { rows } = await sql<Record<"passkeys" | "passkeys_last" | "app_rows" | "app_confirmed" | "app_last" | "codes_left" | "codes_last", number | string | null>>`
    SELECT (SELECT COUNT(*) FROM passkeys WHERE user_id = ${userId}) AS passkeys,
      (SELECT MAX(last_used_at) FROM passkeys WHERE user_id = ${userId}) AS passkeys_last,
      (SELECT COUNT(*) FROM authenticator_apps WHERE user_id = ${userId}) AS app_rows,
      (SELECT confirmed_at FROM authenticator_apps WHERE user_id = ${userId}) AS app_confirmed,
      (SELECT last_used_at FROM authenticator_apps WHERE user_id = ${userId}) AS app_last,
      (SELECT COUNT(*) FROM recovery_codes WHERE user_id = ${userId} AND used_at IS NULL) AS codes_left,
      (SELECT MAX(used_at) FROM recovery_codes WHERE user_id = ${userId}) AS codes_last`.execute(db);
  const row = rows[0]!;
  const time = (value: number | string | null) => (value === null ? null : Number(value));
  const appConfirmed = time(row.app_confirmed);
  return {
    passkeys: Number(row.passkeys),
    passkeysLastUsedAt: time(row.passkeys_last),
    app: appConfirmed !== null ? { confirmedAt: appConfirmed, lastUsedAt: time(row.app_last) } : null,
    appPending: Number(row.app_rows) > 0 && appConfirmed === null,
    recoveryCodesLeft: Number(row.codes_left),
    recoveryCodesLastUsedAt: time(row.codes_last),
  };
}

/** A passkey or a confirmed authenticator app: a factor NIST SP 800-63B accepts for AAL2. Recovery codes are their backup, not one. */
export function hasStrongFactor(factors: FactorSummary): boolean {
  return factors.passkeys > 0 || factors.app !== null;
}

export interface RemovedFactors {
  passkeys: number;
  app: boolean;
  recoveryCodes: number;
}

/** Deletes every passkey, the authenticator app and the recovery codes of a user, in the caller's transaction. */
export async function removeAllFactors(tx: Kysely<Database>, userId: string): Promise<RemovedFactors> {
  const passkeys = await removeAllPasskeys(tx, userId);
  const app = await tx.deleteFrom("authenticator_apps").where("user_id", "=", userId).where("confirmed_at", "is not", null).executeTakeFirst();
  await tx.deleteFrom("authenticator_apps").where("user_id", "=", userId).execute();
  const codes = await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).where("used_at", "is", null).executeTakeFirst();
  await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
  return { passkeys, app: Number(app.numDeletedRows) > 0, recoveryCodes: Number(codes.numDeletedRows) };
}
