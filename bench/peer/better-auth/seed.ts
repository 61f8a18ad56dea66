/**
 * Seeds the peer's database: better-auth's own migrations, then N users signed up through better-auth's
 * API (so the rows are exactly what better-auth writes, password hashed by the argon2id hook), then 2FA
 * switched on for them. better-auth only turns `twoFactorEnabled` on after a signed-in user calls
 * /two-factor/enable (or confirms a first code); for pre-existing users that is set in the database.
 *
 *   node --import tsx bench/peer/better-auth/seed.ts <db path> <users>
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { getMigrations } from "better-auth/db/migration";
import { makeUsers } from "../../lib/users.ts";
import { createPeerAuth } from "./auth.ts";

export const PEER_USER_PREFIX = "peer";

export async function seedPeer(dbPath: string, count: number): Promise<void> {
  const { auth, db, mailer } = createPeerAuth({ dbPath, baseURL: "http://127.0.0.1:9", secret: "seed-".padEnd(64, "0"), smtpPort: 9 });
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  const users = makeUsers(PEER_USER_PREFIX, count, true);
  const batch = 8;
  for (let i = 0; i < users.length; i += batch) {
    await Promise.all(
      users.slice(i, i + batch).map((u) =>
        auth.api.signUpEmail({ body: { email: u.email, password: u.password, name: `Bench ${u.email.split("@")[0]}` } }),
      ),
    );
  }
  const changed = db.prepare('UPDATE "user" SET "twoFactorEnabled" = 1').run().changes;
  db.prepare('DELETE FROM "session"').run(); // sign-up sessions: not part of the measured state
  if (changed !== count) throw new Error(`expected ${count} users, updated ${changed}`);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  mailer.close();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [dbPath, n] = process.argv.slice(2);
  if (!dbPath || !n) {
    console.error("usage: seed.ts <db path> <users>");
    process.exit(2);
  }
  await seedPeer(dbPath, Number(n));
}
