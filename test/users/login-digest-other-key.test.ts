import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/store/schema.ts";
import { refreshLoginDigestsAfterStart } from "../../src/app/login-digest-refresh.ts";
import { counterKey } from "../../src/regulation/counter-key.ts";
import { lockedUsersByPartner } from "../../src/rollout/progress.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import { createUser } from "../../src/users/users.ts";
import { TEST_KEYS } from "../support/login-counter.ts";
import { ERROR, loggerWithLines, WARN } from "../support/log-lines.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";

/**
 * Review of migration 023's fingerprint: an unchanged FAMOS_SECRET costs one read at start, but an
 * instance with another secret (the old one, during a rolling change of FAMOS_SECRET) that creates an
 * account after the fingerprint was kept left that account's digest under its key for good: every
 * later start found its own fingerprint and nothing undigested, and the Rollout page's locked figure
 * never counted that account. An account written while the kept fingerprint is another key's is now
 * kept without a digest (as an older instance's), which the figure digests as it reads and the next
 * start fills in.
 */
describe.each(DIALECTS)("an account created under another FAMOS_SECRET than the kept fingerprint's, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>> | undefined;
  const other = { ...TEST_KEYS, loginId: Buffer.alloc(32, 5) };
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("is counted locked by an instance with the kept key, and the next start gives it that key's digest", async () => {
    t = await openInstances(dialect, 1, `digest_other_key_${dialect}`);
    const deps = t.deps[0]!;
    const now = t.clock.now();
    const silent = loggerWithLines();
    await createUser(deps.db, deps.keys, deps.random, now, { loginId: "Anna", fullName: "Anna", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null });
    await refreshLoginDigestsAfterStart(deps, silent.logger);
    // The old instance, still running with another secret, creates Dora.
    await createUser(deps.db, other, deps.random, now, { loginId: "Dora", fullName: "Dora", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null });
    // Dora's password counter locked, on an instance with the kept key.
    await deps.db.insertInto("throttles").values({ key: counterKey.loginId("password", loginDigest(deps.keys, "dora")), failures: 5, locked_until: now + 60_000, hard_locked: 0, updated_at: now, window_started_at: 0 }).execute();
    expect(Object.fromEntries(await lockedUsersByPartner(deps, now))).toEqual({ "7": 1 });
    const { logger, lines } = loggerWithLines();
    await refreshLoginDigestsAfterStart(deps, logger);
    expect(lines.map((l) => [l.level, l.accounts])).toEqual([[WARN, 1]]);
    const dora = await deps.db.selectFrom("users").select("login_digest").where("login_key", "=", "dora").executeTakeFirstOrThrow();
    expect(dora.login_digest).toBe(loginDigest(deps.keys, "dora"));
  });

  it("an account created under the kept key keeps its digest (no later work)", async () => {
    t = await openInstances(dialect, 1, `digest_same_key_${dialect}`);
    const deps = t.deps[0]!;
    await refreshLoginDigestsAfterStart(deps, loggerWithLines().logger);
    await createUser(deps.db, deps.keys, deps.random, t.clock.now(), { loginId: "Ben", fullName: "Ben", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null });
    const ben = await deps.db.selectFrom("users").select("login_digest").where("login_key", "=", "ben").executeTakeFirstOrThrow();
    expect(ben.login_digest).toBe(loginDigest(deps.keys, "ben"));
    const { logger, lines } = loggerWithLines();
    await refreshLoginDigestsAfterStart(deps, logger);
    expect(lines).toEqual([]);
  });
  it("an import by the instance with the other secret: its new accounts kept without a digest, filled in at the next start", async () => {
    t = await openInstances(dialect, 1, `digest_other_import_${dialect}`);
    const deps = t.deps[0]!;
    await refreshLoginDigestsAfterStart(deps, loggerWithLines().logger);
    const row = (line: number, loginId: string) => ({ line, loginId, fullName: loginId, partnerNumber: "7", role: "user" as const, email: null, passwordHash: "x" });
    await storeImportedUsers({ ...deps, keys: other }, [row(2, "imp.one"), row(3, "imp.two")], { update: false, actor: { actor: "operator:test", ip: null, userAgent: null } });
    const { logger, lines } = loggerWithLines();
    await refreshLoginDigestsAfterStart(deps, logger);
    expect(lines.map((l) => [l.level, l.accounts])).toEqual([[WARN, 2]]);
  });
});

describe("the start's check on a database it may only read (SQLite opened read-only)", () => {
  it("an unchanged key: nothing written, nothing logged; another key: an error logged, never thrown", async () => {
    const t = await openInstances("sqlite", 1, "digest_read_only");
    try {
      const deps = t.deps[0]!;
      await createUser(deps.db, deps.keys, deps.random, t.clock.now(), { loginId: "Anna", fullName: "Anna", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null });
      await refreshLoginDigestsAfterStart(deps, loggerWithLines().logger);
      const file = t.database.url.slice("sqlite:".length);
      const readOnly = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(file, { readonly: true }) }) });
      try {
        const same = loggerWithLines();
        await refreshLoginDigestsAfterStart({ db: readOnly, keys: deps.keys, dialect: "sqlite" }, same.logger);
        expect(same.lines).toEqual([]);
        const changed = loggerWithLines();
        await expect(refreshLoginDigestsAfterStart({ db: readOnly, keys: { ...TEST_KEYS, loginId: Buffer.alloc(32, 6) }, dialect: "sqlite" }, changed.logger)).resolves.toBeUndefined();
        expect(changed.lines.map((l) => l.level)).toEqual([ERROR]);
      } finally {
        await readOnly.destroy();
      }
    } finally {
      await t.close();
    }
  });
});
