import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { counterKey } from "../../src/regulation/throttle.ts";
import { openStore } from "../../src/store/database.ts";
import { migrateTo } from "../../src/store/migrate.ts";
import { TEST_KEYS } from "../support/login-counter.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * Migration 019 keys every login ID's counters by a digest under FAMOS_SECRET. A `famos migrate` (or
 * any command) run without FAMOS_SECRET and without the secret a development server keeps under
 * ./data (a pipeline that sets FAMOS_DATABASE_URL alone) must refuse, not rewrite the counters under
 * a secret generated on the spot, which no server has: every lock in force, those until support
 * unlocks included, would be lifted without a word.
 */
describe("migration 019 and a command run without the server's secret (real famos from dist, SQLite file)", () => {
  let ws: CliWorkspace | undefined;
  afterEach(() => {
    ws?.remove();
    ws = undefined;
  });

  async function olderDatabase(w: CliWorkspace): Promise<void> {
    const store = openStore(w.databaseUrl);
    try {
      await migrateTo(store, "018-hard-bounced-mail");
      await store.db.insertInto("throttles").values({ key: "code:id:locked.out", failures: 100, locked_until: 0, hard_locked: 1, updated_at: Date.now(), window_started_at: 0 }).execute();
    } finally {
      await store.close();
    }
  }

  async function counterKeys(w: CliWorkspace): Promise<string[]> {
    const store = openStore(w.databaseUrl);
    try {
      return (await store.db.selectFrom("throttles").select("key").execute()).map((r) => r.key);
    } finally {
      await store.close();
    }
  }

  const withoutSecret = { prefix: ["env", "-u", "FAMOS_SECRET"] };

  it.each([["migrate"], ["user", "show", "locked.out"]])("famos %s … refuses, changing nothing and generating no secret; with FAMOS_SECRET the lock holds under its digest", async (...args) => {
    ws = cliWorkspace();
    await olderDatabase(ws);
    const refused = await ws.run(args, withoutSecret);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/019-login-digests.*FAMOS_SECRET/);
    expect(existsSync(join(ws.dir, "data", "secret"))).toBe(false);
    expect(await counterKeys(ws)).toEqual(["code:id:locked.out"]);

    const done = await ws.run(["migrate"]);
    expect(done.code, done.stderr).toBe(0);
    expect(await counterKeys(ws)).toEqual([counterKey.loginId("code", loginDigest(TEST_KEYS, "locked.out"))]);
  });

  it("a development secret kept under ./data (a development server ran there) is the one used", async () => {
    ws = cliWorkspace();
    await olderDatabase(ws);
    // A development server's start kept its secret there; then famos migrate without FAMOS_SECRET.
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(join(ws.dir, "data"), { recursive: true });
    writeFileSync(join(ws.dir, "data", "secret"), `${"ab".repeat(32)}\n`);
    const done = await ws.run(["migrate"], withoutSecret);
    expect(done.code, done.stderr).toBe(0);
    const { deriveKeys } = await import("../../src/platform/keys.ts");
    expect(await counterKeys(ws)).toEqual([counterKey.loginId("code", loginDigest(deriveKeys(Buffer.from("ab".repeat(32), "hex")), "locked.out"))]);
  });
});
