import { sql, type Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import { checkSecondFactor } from "../../src/factors/check-second-factor.ts";
import { deriveKeys } from "../../src/platform/keys.ts";
import type { Database } from "../../src/store/schema.ts";
import { appFactor } from "../../src/strong-factors/authenticator-app.ts";
import { openSecret } from "../../src/strong-factors/secret-box.ts";
import { refreshLoginDigestsIfKeyChanged } from "../../src/users/login-digest.ts";
import { recordSignIn } from "../../src/users/users.ts";
import { openInstances } from "../store/dialects.ts";
import { addUser, TEST_SECRET } from "../support/app.ts";
import { addConfirmedApp, appCode } from "./helpers.ts";

/**
 * A sign-in with an app sealed under FAMOS_SECRET_PREVIOUS seals it again (and forgets the start's
 * fingerprint of another key, key_fingerprints) inside checkSecondFactor's transaction, which also
 * writes the user's row. Another instance starting meanwhile makes its login digests under its key
 * (refreshLoginDigestsIfKeyChanged): it locks users, then key_fingerprints. A request writing
 * key_fingerprints before users took them the other way round: PostgreSQL ended one with "deadlock
 * detected". The start comes at the worst moment, between the factor's writes and the user's row
 * (the confirming callback), and the sign-in goes on only once the start waits at a lock or is done.
 */
const NEW_SECRET = "c".repeat(64);

/** Whether a transaction waits for a lock on key_fingerprints (this test database's). */
async function waitsOnFingerprints(db: Kysely<Database>): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where not granted and relation = 'key_fingerprints'::regclass`.execute(db);
  return rows[0]!.n > 0;
}

describe("a sign-in that seals an app again while another instance starts (PostgreSQL)", () => {
  it("both finish: the sign-in is kept, the app sealed under FAMOS_SECRET, the start's pass done", async () => {
    const t = await openInstances("postgres", 2, "reseal_start_race", { FAMOS_SECRET: NEW_SECRET, FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    try {
      const [a, b] = t.deps as [(typeof t.deps)[0], (typeof t.deps)[0]];
      const now = t.clock.now();
      const user = await addUser(a);
      const secret = await addConfirmedApp(a, user.id, deriveKeys(Buffer.from(TEST_SECRET, "hex")).totpSecret);

      let start: Promise<unknown> | undefined;
      const check = await checkSecondFactor(a, user, appFactor(a, user, await appCode(secret, now), "signin"), { ip: "192.0.2.61", userAgent: "race" }, async (tx, at) => {
        let settled = false;
        start = refreshLoginDigestsIfKeyChanged(b.db, b.keys, "postgres")
          .catch((error: unknown) => error)
          .finally(() => (settled = true));
        while (!settled && !(await waitsOnFingerprints(a.db)));
        await recordSignIn(tx, user.id, at);
        return "signed-in";
      });
      expect(check).toEqual({ kind: "ok", value: "signed-in" });
      expect(await start).toBe(0);
      const row = await a.db.selectFrom("authenticator_apps").select("secret").where("user_id", "=", user.id).executeTakeFirstOrThrow();
      expect(openSecret(a.keys.totpSecret, user.id, row.secret)).toBe(secret);
      expect((await a.db.selectFrom("users").select("last_sign_in_at").where("id", "=", user.id).executeTakeFirstOrThrow()).last_sign_in_at).toBe(now);
      expect(await a.db.selectFrom("key_fingerprints").select("purpose").where("purpose", "like", "login-digest%").execute()).toEqual([{ purpose: "login-digest" }]);
      expect(await t.deps[0]!.metrics.registry.metrics()).toMatch(/famos_previous_secret_reads_total\{what="app"\} 1/);
    } finally {
      await t.close();
    }
  }, 30_000);
});
