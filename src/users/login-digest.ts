import { sql, type Kysely } from "kysely";
import type { Keys } from "../platform/keys.ts";
import type { Dialect } from "../store/database.ts";
import { hmacHex } from "../platform/keys.ts";
import type { Database } from "../store/schema.ts";
import { keyedPassBegins, keyedPassDone, type KeyedRows } from "../store/key-fingerprints.ts";
import { loginKey } from "./users.ts";

/**
 * What lands in the Login ID field (of Log in, or of Forgot password?) is now and then the password:
 * autofill, a slip of the Tab key. Such text matches no account, and it must not be stored as typed
 * (ASVS 7.1.1, 7.1.2; OWASP Logging Cheat Sheet): operators, backups and anyone reading the database
 * would read it. So a login ID as typed is stored only as this keyed digest (HMAC-SHA256 of its login
 * key under a key derived from FAMOS_SECRET, keys.loginId): the one form every login ID's counters are
 * keyed by, known or not, so both cost the same and look alike; and the form in which the audit trail
 * keeps a login ID no account has. A copy of the database alone gives nothing to guess against.
 */
const BATCH = 1000;

export function loginDigest(keys: Pick<Keys, "loginId">, login: string): string {
  // A login key is its own key (loginKey is idempotent): a login ID as written digests alike.
  return hmacHex(keys.loginId, loginKey(login));
}

/**
 * How the audit trail stores, as subject and actor, a login ID no account has: this prefix and its
 * digest. Lower case (lower(trim()) leaves it as it is, as the trail's indexes compare subjects) and
 * with a space, which no login ID holds (src/users/fields.ts), so it is never taken for one.
 */
export const NO_ACCOUNT_PREFIX = "(no account) ";

/** The audit's subject for a login ID typed into a form: its login key when an account has it, else its digest. */
export function typedLoginSubject(keys: Pick<Keys, "loginId">, loginKey: string, hasAccount: boolean, digest = loginDigest(keys, loginKey)): string {
  return hasAccount ? loginKey : `${NO_ACCOUNT_PREFIX}${digest}`;
}

/**
 * Makes each account's kept digest (users.login_digest, migration 021) again under `keys`, where it
 * differs: after FAMOS_SECRET changes, the counters are keyed under the new key and the kept digests
 * would match none (the Rollout page's "locked" figure). `famos serve` runs it once it listens
 * (src/app/login-digest-refresh.ts): it reads every account and makes an HMAC for each (20,000: 0.3 to
 * 0.6 s measured on SQLite and PostgreSQL, nothing changed), a write only for those that differ, null
 * ones (an older instance's, during a rolling upgrade) included. Returns how many were made again.
 */
export async function refreshLoginDigests(db: Kysely<Database>, keys: Pick<Keys, "loginId">): Promise<number> {
  let changed = 0;
  for (let after = ""; ; ) {
    const users = await db.selectFrom("users").select(["id", "login_key", "login_digest"]).where("id", ">", after).orderBy("id").limit(BATCH).execute();
    changed += await writeDigests(db, keys, users);
    if (users.length < BATCH) return changed;
    after = users.at(-1)!.id;
  }
}

/** Accounts left without a digest (kept so by forgetDigestsUnderAnotherKey) given this key's. */
async function digestUndigested(db: Kysely<Database>, keys: Pick<Keys, "loginId">): Promise<number> {
  let changed = 0;
  for (;;) {
    const users = await db.selectFrom("users").select(["id", "login_key", "login_digest"]).where("login_digest", "is", null).orderBy("id").limit(BATCH).execute();
    changed += await writeDigests(db, keys, users);
    if (users.length < BATCH) return changed;
  }
}

async function writeDigests(db: Kysely<Database>, keys: Pick<Keys, "loginId">, users: readonly { id: string; login_key: string; login_digest: string | null }[]): Promise<number> {
  const stale = users.map((u) => ({ id: u.id, digest: loginDigest(keys, u.login_key), was: u.login_digest })).filter((u) => u.digest !== u.was);
  // One statement per batch: UPDATE ... FROM a VALUES list, whose columns both databases name column1, column2.
  if (stale.length > 0) {
    const list = sql.join(stale.map((u) => sql`(${u.id}, ${u.digest})`));
    await sql`update users set login_digest = changed.column2 from (values ${list}) as changed where users.id = changed.column1`.execute(db);
  }
  return stale.length;
}

/** The rows of key_fingerprints for the key the kept login ID digests were made under, and the one a start is making them under. */
const DIGESTS: KeyedRows = { kept: "login-digest", next: "login-digest-next", table: "users" };
const DIGEST_KEY = DIGESTS.kept;
const DIGEST_KEY_NEXT = DIGESTS.next;

/**
 * A fingerprint of keys.loginId: an HMAC under it of a fixed text, which tells one key from another and
 * gives nothing of it (nor of FAMOS_SECRET). The text holds spaces, which no login key holds, so it is
 * never the digest of a login ID.
 */
export function loginDigestKeyFingerprint(keys: Pick<Keys, "loginId">): string {
  return hmacHex(keys.loginId, "fingerprint of the key login ID digests are made under");
}

/**
 * `famos serve`'s check at start (src/app/login-digest-refresh.ts): the kept digests are made again
 * (refreshLoginDigests, every account read) only when the fingerprint kept beside them is not this
 * key's (FAMOS_SECRET changed, an instance with another one started, or none kept yet: the first start
 * after migration 023), a start stopped half-way, or an account has none (an older instance made it
 * during a rolling upgrade). All asked in one statement, through primary keys and users_login_digest:
 * an unchanged secret costs that one read.
 *
 * Accounts are created meanwhile by other instances: the pass keeps next first (src/store/key-fingerprints.ts,
 * the one rule), from then on an account created under any other key is kept without a digest
 * (forgetDigestsUnderAnotherKey), one under this key with its digest; after every account is read,
 * those left without one are given this key's, and only then is the key kept as the digests' own.
 * Returns how many were made again.
 */
export async function refreshLoginDigestsIfKeyChanged(db: Kysely<Database>, keys: Pick<Keys, "loginId">, dialect: Dialect): Promise<number> {
  const fingerprint = loginDigestKeyFingerprint(keys);
  const state = await db
    .selectNoFrom((eb) => [
      eb.selectFrom("key_fingerprints").select("fingerprint").where("purpose", "=", DIGEST_KEY).as("kept"),
      eb.selectFrom("key_fingerprints").select("fingerprint").where("purpose", "=", DIGEST_KEY_NEXT).as("next"),
      eb.exists(eb.selectFrom("users").select("id").where("login_digest", "is", null)).as("undigested"),
    ])
    .executeTakeFirstOrThrow();
  // exists() is 1 or 0 on SQLite, true or false on PostgreSQL.
  if (state.kept === fingerprint && state.next == null && Number(state.undigested) !== 1) return 0;
  await keyedPassBegins(db, dialect, DIGESTS, fingerprint);
  const changed = (await refreshLoginDigests(db, keys)) + (await digestUndigested(db, keys));
  await keyedPassDone(db, dialect, DIGESTS, fingerprint);
  return changed;
}

/**
 * Accounts just created (`accounts`) with digests under `keys`, kept without one when the digests'
 * key (the one being made, else the one kept) is another: an instance with another FAMOS_SECRET (the
 * old one, during a rolling change of it) creates accounts after the new one's start kept its
 * fingerprint, and later starts, finding their own fingerprint, would never make those digests again.
 * Without one, the locked figure makes it as it reads (src/rollout/progress.ts) and the next start, or
 * the one making them now, fills it in (refreshLoginDigestsIfKeyChanged). Only a digest still this
 * key's is forgotten: a start may have made it again meanwhile. One statement through the primary
 * keys; nothing when the key is this one or none is kept. Returns the ids kept without a digest.
 */
export async function forgetDigestsUnderAnotherKey(
  db: Kysely<Database>,
  keys: Pick<Keys, "loginId">,
  accounts: readonly { id: string; login_key: string }[],
): Promise<ReadonlySet<string>> {
  if (accounts.length === 0) return new Set();
  const fingerprint = loginDigestKeyFingerprint(keys);
  const fingerprints = (purpose: string) => db.selectFrom("key_fingerprints").select("purpose").where("purpose", "=", purpose);
  const forgotten = await db
    .updateTable("users")
    .set({ login_digest: null })
    .where("id", "in", accounts.map((a) => a.id))
    .where("login_digest", "in", accounts.map((a) => loginDigest(keys, a.login_key)))
    .where((eb) =>
      eb.or([
        eb.exists(fingerprints(DIGEST_KEY_NEXT).where("fingerprint", "<>", fingerprint)),
        eb.and([eb.not(eb.exists(fingerprints(DIGEST_KEY_NEXT))), eb.exists(fingerprints(DIGEST_KEY).where("fingerprint", "<>", fingerprint))]),
      ]),
    )
    .returning("id")
    .execute();
  return new Set(forgotten.map((r) => r.id));
}

/**
 * Which FAMOS_SECRET the login digests were last made under, as far as the database tells: "this" (these
 * keys': a start under them finished its pass), "another" (the last pass that finished, or one under
 * way, was under another), "unfinished" (a pass under these keys began and has not finished: still
 * running, stopped on an error, or left for the next start by accounts created meanwhile under another
 * key). Null when none is kept (no server has started since migration 023). Only what the starts kept:
 * it cannot see an instance still running under another secret that has not restarted since. `famos
 * reseal` asks before it seals anything again.
 */
export async function serversRunKeys(db: Kysely<Database>, keys: Pick<Keys, "loginId">): Promise<"this" | "another" | "unfinished" | null> {
  const fingerprint = loginDigestKeyFingerprint(keys);
  const rows = await db.selectFrom("key_fingerprints").select(["purpose", "fingerprint"]).where("purpose", "in", [DIGEST_KEY, DIGEST_KEY_NEXT]).execute();
  const kept = rows.find((r) => r.purpose === DIGEST_KEY)?.fingerprint;
  const next = rows.find((r) => r.purpose === DIGEST_KEY_NEXT)?.fingerprint;
  if (kept === undefined && next === undefined) return null;
  if (next === undefined) return kept === fingerprint ? "this" : "another";
  if (next !== fingerprint) return "another";
  return kept === fingerprint ? "this" : "unfinished";
}
