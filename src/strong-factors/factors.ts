import { sql, type Kysely } from "kysely";
import { passkeySummary, removeAllPasskeys, type PasskeySummary } from "../passkeys/passkeys.ts";
import { preparedQuery } from "../store/prepared.ts";
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
  const [row] = await factorsStatement(db, userId);
  return summary(Number(row!.passkeys), time(row!.passkeys_last), row!);
}

/**
 * The aggregate (as factorsOf) and the passkeys themselves, oldest first, in one statement: Profile
 * shows both (issue 17: its passkey list already gives the passkeys' count and last use).
 */
export async function factorsWithPasskeys(db: Kysely<Database>, userId: string): Promise<{ factors: FactorSummary; passkeys: PasskeySummary[] }> {
  const rows = await factorsWithPasskeysStatement(db, userId);
  // One row without a passkey (the left join's) when the user has none.
  const passkeys = rows.flatMap(({ id, name, created_at, last_used_at, backed_up }) =>
    id === null ? [] : [passkeySummary({ id, name: name!, created_at: created_at!, last_used_at, backed_up: backed_up! })],
  );
  const used = passkeys.map((p) => p.lastUsedAt).filter((at) => at !== null);
  return { factors: summary(passkeys.length, used.length > 0 ? Math.max(...used) : null, rows[0]!), passkeys };
}

type Time = number | string | null;
const time = (value: Time) => (value === null ? null : Number(value));

/** The app and recovery-code columns both statements read, each through its table's user index. */
function appAndCodeColumns(db: Kysely<Database>, userId: string) {
  return [
    db.selectFrom("authenticator_apps").select((eb) => eb.fn.countAll<number | string>().as("n")).where("user_id", "=", userId).as("app_rows"),
    db.selectFrom("authenticator_apps").select("confirmed_at").where("user_id", "=", userId).as("app_confirmed"),
    db.selectFrom("authenticator_apps").select("last_used_at").where("user_id", "=", userId).as("app_last"),
    db.selectFrom("recovery_codes").select((eb) => eb.fn.countAll<number | string>().as("n")).where("user_id", "=", userId).where("used_at", "is", null).as("codes_left"),
    db.selectFrom("recovery_codes").select((eb) => eb.fn.max<Time>("used_at").as("m")).where("user_id", "=", userId).as("codes_last"),
  ] as const;
}

function summary(passkeys: number, passkeysLastUsedAt: number | null, row: Record<"app_rows" | "app_confirmed" | "app_last" | "codes_left" | "codes_last", Time | undefined>): FactorSummary {
  const appConfirmed = time(row.app_confirmed ?? null);
  return {
    passkeys,
    passkeysLastUsedAt,
    app: appConfirmed !== null ? { confirmedAt: appConfirmed, lastUsedAt: time(row.app_last ?? null) } : null,
    appPending: Number(row.app_rows) > 0 && appConfirmed === null,
    recoveryCodesLeft: Number(row.codes_left),
    recoveryCodesLastUsedAt: time(row.codes_last ?? null),
  };
}

// Issue 17: built and compiled once.
const factorsStatement = preparedQuery((db, userId: string) =>
  db.selectNoFrom([
    db.selectFrom("passkeys").select((eb) => eb.fn.countAll<number | string>().as("n")).where("user_id", "=", userId).as("passkeys"),
    db.selectFrom("passkeys").select((eb) => eb.fn.max<Time>("last_used_at").as("m")).where("user_id", "=", userId).as("passkeys_last"),
    ...appAndCodeColumns(db, userId),
  ]),
);
/** Each of the user's passkeys (or one row of nulls) beside the app and recovery-code columns. */
const factorsWithPasskeysStatement = preparedQuery((db, userId: string) =>
  db
    .selectFrom(db.selectNoFrom(sql<number>`1`.as("one")).as("one"))
    .leftJoin("passkeys", (join) => join.on("passkeys.user_id", "=", userId))
    .select(["passkeys.id", "passkeys.name", "passkeys.created_at", "passkeys.last_used_at", "passkeys.backed_up", ...appAndCodeColumns(db, userId)])
    .orderBy("passkeys.created_at")
    .orderBy("passkeys.id"),
);

/** A passkey or a confirmed authenticator app: a factor NIST SP 800-63B accepts for AAL2. Recovery codes are their backup, not one. */
export function hasStrongFactor(factors: FactorSummary): boolean {
  return factors.passkeys > 0 || factors.app !== null;
}

/**
 * Keeps users.strong_factor_at true to the passkeys and the confirmed app the user now has: set (its
 * first time kept) while they have one, null when none is left. The one home of that mark, which the
 * rollout's rule reads from the user's row (alwaysTwoFactor): every transaction that adds or removes a
 * passkey or a confirmed app calls it, after the change and with the user's row taken first (on
 * PostgreSQL the statement then sees what another such transaction committed before it).
 */
export async function markStrongFactors(tx: Kysely<Database>, userId: string, now: number): Promise<void> {
  await tx
    .updateTable("users")
    .set((eb) => ({
      strong_factor_at: eb
        .case()
        .when(
          eb.or([
            eb.exists(eb.selectFrom("passkeys").select("passkeys.id").where("passkeys.user_id", "=", userId)),
            eb.exists(eb.selectFrom("authenticator_apps").select("authenticator_apps.user_id").where("authenticator_apps.user_id", "=", userId).where("authenticator_apps.confirmed_at", "is not", null)),
          ]),
        )
        .then(eb.fn.coalesce("users.strong_factor_at", eb.val(now)))
        .else(null)
        .end(),
    }))
    .where("users.id", "=", userId)
    .execute();
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
