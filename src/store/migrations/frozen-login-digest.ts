import { createHmac } from "node:crypto";
import { sql, type Kysely } from "kysely";

// Frozen: what migrations 019 and 021 computed when they were released, copied here from the live
// code (src/users/users.ts loginKey, src/users/login-digest.ts loginDigest, NO_ACCOUNT_PREFIX and
// refreshLoginDigests) so that a later change there cannot change what they do on a new database.
// Never edit: a migration needing another form gets its own copy (test/store/frozen-migrations.unit).

/** The key digests are made under (the live Keys' loginId, derived from FAMOS_SECRET). */
export interface FrozenLoginKeys {
  loginId: Buffer;
}

/** A login ID's key as of migration 013: composed accents, trimmed, lower case. */
export function frozenLoginKey(loginId: string): string {
  return loginId.normalize("NFC").trim().toLowerCase().normalize("NFC");
}

/** HMAC-SHA256 (hex) of the login key under keys.loginId. */
export function frozenLoginDigest(keys: FrozenLoginKeys, login: string): string {
  return createHmac("sha256", keys.loginId).update(frozenLoginKey(login)).digest("hex");
}

/** How the audit trail stores a login ID no account has: this prefix and its digest. */
export const FROZEN_NO_ACCOUNT_PREFIX = "(no account) ";

const BATCH = 1000;

/** Gives every account the digest of its login key, in batches by id, one statement per batch. */
export async function frozenRefreshLoginDigests(db: Kysely<any>, keys: FrozenLoginKeys): Promise<void> {
  for (let after = ""; ; ) {
    const users = (await db.selectFrom("users").select(["id", "login_key", "login_digest"]).where("id", ">", after).orderBy("id").limit(BATCH).execute()) as {
      id: string;
      login_key: string;
      login_digest: string | null;
    }[];
    const stale = users.map((u) => ({ id: u.id, digest: frozenLoginDigest(keys, u.login_key), was: u.login_digest })).filter((u) => u.digest !== u.was);
    // UPDATE ... FROM a VALUES list, whose columns both databases name column1, column2.
    if (stale.length > 0) {
      const list = sql.join(stale.map((u) => sql`(${u.id}, ${u.digest})`));
      await sql`update users set login_digest = changed.column2 from (values ${list}) as changed where users.id = changed.column1`.execute(db);
    }
    if (users.length < BATCH) return;
    after = users.at(-1)!.id;
  }
}
