import { sql, type Kysely } from "kysely";
import type { Keys } from "../platform/keys.ts";
import { hmacHex } from "../platform/keys.ts";
import type { Database } from "../store/schema.ts";
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
    const stale = users.map((u) => ({ id: u.id, digest: loginDigest(keys, u.login_key), was: u.login_digest })).filter((u) => u.digest !== u.was);
    // One statement per batch: UPDATE ... FROM a VALUES list, whose columns both databases name column1, column2.
    if (stale.length > 0) {
      const list = sql.join(stale.map((u) => sql`(${u.id}, ${u.digest})`));
      await sql`update users set login_digest = changed.column2 from (values ${list}) as changed where users.id = changed.column1`.execute(db);
    }
    changed += stale.length;
    if (users.length < BATCH) return changed;
    after = users.at(-1)!.id;
  }
}

/** The row of key_fingerprints (migration 023) for the key the kept login ID digests were made under. */
const DIGEST_KEY = "login-digest";

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
 * after migration 023), or an account has none (an older instance made it during a rolling upgrade).
 * Both asked in one statement, through the primary key and users_login_digest: an unchanged secret
 * costs that one read. The fingerprint is written once the digests are made. Returns how many were made again.
 */
export async function refreshLoginDigestsIfKeyChanged(db: Kysely<Database>, keys: Pick<Keys, "loginId">): Promise<number> {
  const fingerprint = loginDigestKeyFingerprint(keys);
  const state = await db
    .selectNoFrom((eb) => [
      eb.selectFrom("key_fingerprints").select("fingerprint").where("purpose", "=", DIGEST_KEY).as("kept"),
      eb.exists(eb.selectFrom("users").select("id").where("login_digest", "is", null)).as("undigested"),
    ])
    .executeTakeFirstOrThrow();
  // exists() is 1 or 0 on SQLite, true or false on PostgreSQL.
  if (state.kept === fingerprint && Number(state.undigested) !== 1) return 0;
  const changed = await refreshLoginDigests(db, keys);
  await db
    .insertInto("key_fingerprints")
    .values({ purpose: DIGEST_KEY, fingerprint })
    .onConflict((oc) => oc.column("purpose").doUpdateSet({ fingerprint }))
    .execute();
  return changed;
}

/**
 * Accounts just created (`ids`) with digests under `keys`, kept without one when the fingerprint kept
 * is another key's: an instance with another FAMOS_SECRET (the old one, during a rolling change of it)
 * creates accounts after the new one's start kept its fingerprint, and later starts, finding their own
 * fingerprint, would never make those digests again. Without one, the locked figure makes it as it
 * reads (src/rollout/progress.ts) and the next start fills it in (refreshLoginDigestsIfKeyChanged).
 * One statement through the primary keys; nothing when the fingerprint is this key's or none is kept.
 */
export async function forgetDigestsUnderAnotherKey(db: Kysely<Database>, keys: Pick<Keys, "loginId">, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const fingerprint = loginDigestKeyFingerprint(keys);
  await db
    .updateTable("users")
    .set({ login_digest: null })
    .where("id", "in", ids)
    .where((eb) => eb.exists(eb.selectFrom("key_fingerprints").select("purpose").where("purpose", "=", DIGEST_KEY).where("fingerprint", "<>", fingerprint)))
    .execute();
}
