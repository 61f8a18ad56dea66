import type { Kysely } from "kysely";
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

/** The one aggregate of a user's strong factors. */
export async function factorsOf(db: Kysely<Database>, userId: string): Promise<FactorSummary> {
  const [passkeys, app, codes] = await Promise.all([
    db.selectFrom("passkeys").select((eb) => [eb.fn.countAll<number | string>().as("count"), eb.fn.max("last_used_at").as("last")]).where("user_id", "=", userId).executeTakeFirst(),
    db.selectFrom("authenticator_apps").select(["confirmed_at", "last_used_at"]).where("user_id", "=", userId).executeTakeFirst(),
    db
      .selectFrom("recovery_codes")
      .select((eb) => [eb.fn.count<number | string>("id").filterWhere("used_at", "is", null).as("left"), eb.fn.max("used_at").as("last")])
      .where("user_id", "=", userId)
      .executeTakeFirst(),
  ]);
  return {
    passkeys: Number(passkeys?.count ?? 0),
    passkeysLastUsedAt: passkeys?.last == null ? null : Number(passkeys.last),
    app: app && app.confirmed_at !== null ? { confirmedAt: Number(app.confirmed_at), lastUsedAt: app.last_used_at === null ? null : Number(app.last_used_at) } : null,
    appPending: app !== undefined && app.confirmed_at === null,
    recoveryCodesLeft: Number(codes?.left ?? 0),
    recoveryCodesLastUsedAt: codes?.last == null ? null : Number(codes.last),
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
  const passkeys = await tx.deleteFrom("passkeys").where("user_id", "=", userId).executeTakeFirst();
  const app = await tx.deleteFrom("authenticator_apps").where("user_id", "=", userId).where("confirmed_at", "is not", null).executeTakeFirst();
  await tx.deleteFrom("authenticator_apps").where("user_id", "=", userId).execute();
  const codes = await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).where("used_at", "is", null).executeTakeFirst();
  await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
  return { passkeys: Number(passkeys.numDeletedRows), app: Number(app.numDeletedRows) > 0, recoveryCodes: Number(codes.numDeletedRows) };
}
