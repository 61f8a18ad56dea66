import { type Kysely, type Migration } from "kysely";
import { frozenRefreshLoginDigests, type FrozenLoginKeys } from "./frozen-login-digest.ts";

// Frozen once released: later changes go in a new migration.
// A login ID's lock counters are keyed by its keyed digest (019), which SQL cannot compute, so the
// Rollout page's "locked" figure read every account and computed each one's digest in JavaScript
// whenever a lock was in force: O(users) per view, and attackers spraying login IDs keep some lock in
// force all the time. Each account now keeps its digest (users.login_digest, set wherever an account
// is created: src/users/users.ts userRow), indexed, so the figure is one statement from the locks in
// force to their accounts. Not unique: two accounts whose login IDs differ only in how their accents
// are composed (kept apart by 013) have one digest, as they have one set of counters (019). The
// digest needs FAMOS_SECRET as 019 does (the same keys, given the same way: src/app/services.ts
// migrationKeys); a database without accounts (a new one) needs none.
// Nullable on both databases: an instance of an older version still running beside upgraded ones
// (a rolling upgrade, `famos migrate` run first) creates accounts without it, which NOT NULL refused on
// PostgreSQL (its `user add`, console and import failed). The Rollout page counts such accounts too
// (src/rollout/progress.ts) and the next `famos serve` start fills them in (refreshLoginDigests).
export function userLoginDigests(keys: FrozenLoginKeys | null): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable("users").addColumn("login_digest", "text").execute();
      const any = await db.selectFrom("users").select("id").limit(1).executeTakeFirst();
      if (any && !keys) throw new Error("the accounts' login ID digests need FAMOS_SECRET: run famos migrate with the server's settings");
      // As `famos serve` makes them again at start (after FAMOS_SECRET changed): every account's, here.
      if (keys) await frozenRefreshLoginDigests(db, keys);
      await db.schema.createIndex("users_login_digest").on("users").column("login_digest").execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex("users_login_digest").ifExists().execute();
      await db.schema.alterTable("users").dropColumn("login_digest").execute();
    },
  };
}
