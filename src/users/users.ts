import type { Kysely } from "kysely";
import type { Keys } from "../platform/keys.ts";
import { randomId, type Random } from "../platform/random.ts";
import type { Dialect } from "../store/database.ts";
import { preparedQuery } from "../store/prepared.ts";
import type { Database, UsersTable } from "../store/schema.ts";
import { forgetDigestsUnderAnotherKey, loginDigest } from "./login-digest.ts";

export type User = UsersTable;
export type Role = User["role"];
export const ROLES: readonly Role[] = ["user", "support", "admin"];

/**
 * Login IDs are unique without regard to case ("Alice" signs in as "alice") or to how their accents
 * are composed: "ü" as U+00FC, as Windows and most keyboards type it, or as "u" and U+0308, as a
 * staff list exported on a Mac often has it, is one text (Unicode canonical equivalence, NFC), so the
 * two can never be two accounts that look the same, and a re-exported list finds its staff. The one
 * rule for a login ID's identity (sign-in, locks, the import, support's checks, the audit subject);
 * migration 013 gives older accounts' keys this form.
 */
export function loginKey(loginId: string): string {
  return loginId.normalize("NFC").trim().toLowerCase().normalize("NFC");
}

// Issue 17: once per password step; built and compiled once.
const userByKey = preparedQuery((db, key: string) => db.selectFrom("users").selectAll().where("login_key", "=", key));

export async function findUserByLogin(db: Kysely<Database>, loginId: string): Promise<User | undefined> {
  const [user] = await userByKey(db, loginKey(loginId));
  return user;
}

// By id: once per password step (checkPassword settles on the account as it is), and wherever an
// account is looked up again; built and compiled once.
const userNow = preparedQuery((db, id: string) => db.selectFrom("users").selectAll().where("id", "=", id));

export async function findUserById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  const [user] = await userNow(db, id);
  return user;
}

const userTakingTurns = preparedQuery((db, id: string) => db.selectFrom("users").selectAll().where("id", "=", id).forNoKeyUpdate());

/**
 * The account as it is now, read inside the caller's transaction `tx`, its row taken first on
 * PostgreSQL: takeTurnsOn and a read in one statement (store/take-turns.ts says why, and why FOR NO
 * KEY UPDATE). On SQLite the transaction's writer lock keeps another writer out until it commits.
 */
export async function findUserTakingTurns(tx: Kysely<Database>, dialect: Dialect, id: string): Promise<User | undefined> {
  const [user] = await (dialect === "postgres" ? userTakingTurns : userNow)(tx, id);
  return user;
}

export interface NewUser {
  loginId: string;
  fullName: string;
  partnerNumber: string;
  role: Role;
  passwordHash: string;
  /** A given address is taken as confirmed: the operator vouches for it. */
  otpEmail: string | null;
  /** A temporary first password (the console's "Create a user"): it works for one sign-in until then. */
  passwordTemporaryUntil?: number;
}

/** A new account's row; `keys`: for its login ID's digest (login_digest), which its lock counters are keyed by. */
export function userRow(keys: Pick<Keys, "loginId">, random: Random, now: number, input: NewUser): User {
  return {
    id: randomId(random),
    login_id: input.loginId.trim(),
    login_key: loginKey(input.loginId),
    login_digest: loginDigest(keys, input.loginId),
    full_name: input.fullName.trim(),
    partner_number: input.partnerNumber.trim(),
    role: input.role,
    password_hash: input.passwordHash,
    otp_email: input.otpEmail,
    otp_email_confirmed_at: input.otpEmail ? now : null,
    strong_factor_at: null,
    pending_email: null,
    last_sign_in_at: null,
    created_at: now,
    updated_at: now,
    disabled_at: null,
    password_temporary_until: input.passwordTemporaryUntil ?? null,
  };
}

/**
 * Adds the user, or returns null when the login ID is taken: also when another add of it (a second
 * operator, an import, another instance's demo user) read it free at the same instant and wrote
 * first. The unique index decides in this one statement; on PostgreSQL it waits for the other
 * writer's transaction and does nothing if that one commits.
 */
export async function createUser(db: Kysely<Database>, keys: Pick<Keys, "loginId">, random: Random, now: number, input: NewUser): Promise<User | null> {
  const row = userRow(keys, random, now, input);
  const inserted = await db.insertInto("users").values(row).onConflict((oc) => oc.column("login_key").doNothing()).returning("id").executeTakeFirst();
  if (!inserted) return null;
  // Returned as stored: kept without a digest when made under another key than the digests'.
  const forgotten = await forgetDigestsUnderAnotherKey(db, keys, [row]);
  return forgotten.has(row.id) ? { ...row, login_digest: null } : row;
}

/** The same password in a new hash (an upgrade at sign-in): whatever temporary state it has, it keeps. */
export async function setPasswordHash(db: Kysely<Database>, userId: string, hash: string, now: number): Promise<void> {
  await db.updateTable("users").set({ password_hash: hash, updated_at: now }).where("id", "=", userId).execute();
}

/**
 * The columns of a new password that is an ordinary one: chosen (Profile, "Choose a new password"),
 * reset ("Forgot password?") or imported (`famos user import --update`). The one home of "a new
 * password replaces a temporary one": the temporary state (pending, used, or spent before the wave)
 * was the replaced password's, and kept it would make the new one one-use or bar it for good.
 * Only support's temporary password (account/temporary-password.ts) sets the state.
 */
export function ordinaryPassword(hash: string): Pick<User, "password_hash" | "password_temporary_until"> {
  return { password_hash: hash, password_temporary_until: null };
}

/** Stores an ordinary new password (ordinaryPassword) in one statement. */
export async function setOrdinaryPassword(db: Kysely<Database>, userId: string, hash: string, now: number): Promise<void> {
  await db.updateTable("users").set({ ...ordinaryPassword(hash), updated_at: now }).where("id", "=", userId).execute();
}

export async function setPendingEmail(db: Kysely<Database>, userId: string, email: string | null, now: number): Promise<void> {
  await db.updateTable("users").set({ pending_email: email, updated_at: now }).where("id", "=", userId).execute();
}

/** Makes `email` the confirmed OTP address (after its code was confirmed). */
export async function confirmOtpEmail(db: Kysely<Database>, userId: string, email: string, now: number): Promise<void> {
  await db
    .updateTable("users")
    .set({ otp_email: email, otp_email_confirmed_at: now, pending_email: null, updated_at: now })
    .where("id", "=", userId)
    .execute();
}

const setLastSignIn = preparedQuery((db, userId: string, now: number) => db.updateTable("users").set({ last_sign_in_at: now }).where("id", "=", userId));

export async function recordSignIn(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  await setLastSignIn(db, userId, now);
}
