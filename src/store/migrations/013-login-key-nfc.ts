import type { Kysely } from "kysely";

// Frozen once released: later changes go in a new migration.
// A login key is now also taken in composed form (NFC; src/users/users.ts loginKey): "ü" typed as
// U+00FC and imported as "u" and U+0308 are one login ID. Keys stored before were lower-cased only,
// so an account imported with decomposed accents gets its key in the new form here, or its owner
// could no longer sign in. Only keys outside ASCII can change. An account whose new key another
// account holds already (two accounts that only looked the same) keeps its old key: the import and
// `user add` can no longer make such a pair, and the operator chooses which of the two to keep.
// Nothing else is keyed for good: a browser's device rows are keyed by the old form and start
// afresh as a new browser's, and lock counters decay with their windows.
export async function up(db: Kysely<any>): Promise<void> {
  const users = (await db.selectFrom("users").select(["id", "login_key"]).execute()) as { id: string; login_key: string }[];
  const taken = new Set(users.map((u) => u.login_key));
  for (const user of users) {
    if (/^[\x00-\x7f]*$/.test(user.login_key)) continue;
    const key = user.login_key.normalize("NFC").toLowerCase().normalize("NFC");
    if (key === user.login_key || taken.has(key)) continue;
    await db.updateTable("users").set({ login_key: key }).where("id", "=", user.id).where("login_key", "=", user.login_key).execute();
    taken.add(key);
  }
}

// The keys stay composed: the older code finds them as Windows and most keyboards type them.
export async function down(): Promise<void> {}
