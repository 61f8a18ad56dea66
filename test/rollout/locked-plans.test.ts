import { sql, type KyselyPlugin } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../src/account/create.ts";
import type { Deps } from "../../src/app/deps.ts";
import { counterKey, type FailureKind } from "../../src/regulation/counter-key.ts";
import { lockedUsersByPartner, rolloutProgress } from "../../src/rollout/progress.ts";
import type { Store } from "../../src/store/database.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import { loginDigest, refreshLoginDigests } from "../../src/users/login-digest.ts";
import { createUser, findUserByLogin, userRow, type User } from "../../src/users/users.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

const USERS = 5_000;

const HASH = "$2b$10$abcdefghijklmnopqrstuuC9o7zZ9Qz1m9N0p0m0c3b8aQ8qUyy5y";

/**
 * The Rollout page's "locked" figure: accounts whose login ID is locked now. Counters are keyed by the
 * login ID's keyed digest; the page read every account and computed its digest in JavaScript whenever a
 * lock was in force (and attackers spraying login IDs keep some in force all the time). Each account
 * now keeps its digest (users.login_digest, migration 021): the count is one statement that reaches the
 * accounts through that column's index, whichever path created them.
 */
describe.each(DIALECTS)("the locked accounts of the Rollout page, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let deps: Deps;
  let store: Store;
  const now = 5_000_000;

  const lock = (kind: FailureKind, loginId: string, hard = false) =>
    deps.db.insertInto("throttles").values({ key: counterKey.loginId(kind, loginDigest(deps.keys, loginId)), failures: hard ? 100 : 5, locked_until: hard ? 0 : now + 60_000, hard_locked: hard ? 1 : 0, updated_at: now, window_started_at: 0 }).execute();
  const locked = async () => (await rolloutProgress(deps)).partners.map((p) => [p.partnerNumber, p.locked]);

  beforeAll(async () => {
    t = await openInstances(dialect, 1, `locked_plans_${dialect}`);
    deps = t.deps[0]!;
    store = t.stores[0]!;
    t.clock.set(now);
    const rows = Array.from({ length: USERS }, (_, j) => userRow(deps.keys, deps.random, 1_000, { loginId: `Staff.${j}`, fullName: "S", partnerNumber: String(7 + (j % 3)), role: "user", passwordHash: HASH, otpEmail: null }));
    for (let i = 0; i < USERS; i += 500) await deps.db.insertInto("users").values(rows.slice(i, i + 500)).execute();
    await sql`analyze`.execute(deps.db);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("counts each account locked once (password and code), not a lock run out, not a login ID no account has", async () => {
    await lock("password", "staff.1");
    await lock("code", "STAFF.1", true);
    await lock("code", "Staff.2", true);
    await lock("password", "nobody.has.this");
    await lock("code", "nobody.either", true);
    await deps.db.insertInto("throttles").values({ key: counterKey.loginId("password", loginDigest(deps.keys, "staff.3")), failures: 5, locked_until: now - 1, hard_locked: 0, updated_at: now, window_started_at: 0 }).execute();
    // The reset's own lock keeps no one out of the sign-in.
    await lock("reset", "staff.4", true);
    expect(await locked()).toEqual([["7", 0], ["8", 1], ["9", 1]]);
  });

  it("counts an account locked whichever path created it: user add (createUser), the console, the import", async () => {
    const support = (await createUser(deps.db, deps.keys, deps.random, now, { loginId: "desk", fullName: "Desk", partnerNumber: "0", role: "admin", passwordHash: HASH, otpEmail: null }))!;
    const by = { user: support as User, audit: { actor: "desk", ip: "192.0.2.1", userAgent: "test" } };
    const created = await createAccount(deps, by, { loginId: "From.Console", fullName: "From Console", partnerNumber: "0", role: "user", email: "" });
    expect(created.kind).toBe("created");
    await storeImportedUsers(deps, [{ line: 2, loginId: "From.Import", fullName: "From Import", partnerNumber: "0", role: "user", email: null, passwordHash: HASH }], { update: false, actor: { actor: "operator:test", ip: null, userAgent: null } });
    for (const loginId of ["desk", "from.console", "from.import"]) {
      expect((await findUserByLogin(deps.db, loginId))?.login_digest).toBe(loginDigest(TEST_KEYS, loginId));
      await lock("password", loginId);
    }
    expect((await rolloutProgress(deps)).partners.find((p) => p.partnerNumber === "0")?.locked).toBe(3);
  });

  it("reads no whole users table and hands JavaScript one row per partner with a lock", async () => {
    const { plugin, nodes } = captureStatements();
    let rows = 0;
    const counting: KyselyPlugin = { transformQuery: ({ node }) => node, transformResult: async ({ result }) => ((rows += result.rows.length), result) };
    await rolloutProgress({ ...deps, db: deps.db.withPlugin(plugin) });
    const lockReads = nodes.filter((node) => JSON.stringify(node).includes("throttles"));
    expect(lockReads).toHaveLength(1);
    // The shared plan reader (test/support/statement-plans.ts): on PostgreSQL also a bitmap heap scan of a
    // whole index, which this file's own walker missed.
    expect(await fullReads(store, lockReads[0]!, ["users"])).toEqual([]);
    // The locks in force are found through the counters' key (its prefix, a range of it), not by
    // reading every counter: a spraying run leaves one for each login ID it tried until the cleanup.
    expect(await fullReads(store, lockReads[0]!, ["throttles"])).toEqual([]);
    const before = rows;
    await lockedUsersByPartner({ ...deps, db: deps.db.withPlugin(counting) }, now);
    expect(rows - before).toBeLessThanOrEqual(3);
  });

  it("counts login IDs holding LIKE wildcards, colons and backslashes as any other (their keys hold only the digest)", async () => {
    const odd = ["%", "_", "a%b_c", "password:id:", "x:id:y", "back\\slash", "\\%"];
    const rows = odd.map((loginId) => userRow(deps.keys, deps.random, now, { loginId, fullName: "Odd", partnerNumber: "4", role: "user", passwordHash: HASH, otpEmail: null }));
    await deps.db.insertInto("users").values(rows).execute();
    await lock("password", "a%b_c");
    await lock("code", "\\%", true);
    // A login ID no account has, chosen to look like a wildcard or another key: no account counted.
    await lock("password", "%%");
    await lock("code", "password:id:%", true);
    expect((await rolloutProgress(deps)).partners.find((p) => p.partnerNumber === "4")?.locked).toBe(2);
  });

  it("counts an account an older instance created during a rolling upgrade, without login_digest (PostgreSQL takes it too)", async () => {
    // An older FAMOS still running beside upgraded ones inserts the row it knows: no login_digest.
    const { login_digest: _digest, ...older } = userRow(deps.keys, deps.random, now, { loginId: "Rolling.Upgrade", fullName: "R", partnerNumber: "5", role: "user", passwordHash: HASH, otpEmail: null });
    await deps.db.insertInto("users").values(older as User).execute();
    await lock("code", "rolling.upgrade", true);
    expect((await rolloutProgress(deps)).partners.find((p) => p.partnerNumber === "5")?.locked).toBe(1);
  });

  it("after FAMOS_SECRET changes, the digests kept are made again once serve listens (refreshLoginDigests) and the count holds", async () => {
    const other = { ...TEST_KEYS, loginId: Buffer.alloc(32, 7) };
    const fresh = { ...deps, keys: other };
    expect(await refreshLoginDigests(fresh.db, other)).toBeGreaterThanOrEqual(USERS);
    await fresh.db.insertInto("throttles").values({ key: counterKey.loginId("password", loginDigest(other, "staff.5")), failures: 5, locked_until: now + 60_000, hard_locked: 0, updated_at: now, window_started_at: 0 }).execute();
    expect((await rolloutProgress(fresh)).partners.find((p) => p.partnerNumber === "9")?.locked).toBe(1);
    expect(await refreshLoginDigests(fresh.db, other)).toBe(0);
    await refreshLoginDigests(deps.db, deps.keys);
  });
});
