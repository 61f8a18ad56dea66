import type { KyselyPlugin } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { refreshLoginDigestsAfterStart } from "../../src/app/login-digest-refresh.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { userRow } from "../../src/users/users.ts";
import { TEST_KEYS } from "../support/login-counter.ts";
import { ERROR, loggerWithLines, WARN } from "../support/log-lines.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";

/**
 * `famos serve` makes each account's login ID digest again under its FAMOS_SECRET once it listens
 * (reading every account, some hundreds of milliseconds at 20,000: not before the port opens). When it
 * had to, the digests were made under another secret: FAMOS_SECRET changed, or an instance still runs
 * with another one, and then each start makes them again: the operator's log says which, at warn.
 */
describe("the login ID digests made again after start", () => {
  let t: Awaited<ReturnType<typeof openInstances>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function withAccounts(keys: typeof TEST_KEYS) {
    t = await openInstances("sqlite", 1, "digest_refresh_rev3");
    const deps = t.deps[0]!;
    const rows = ["Anna", "Ben", "Cleo"].map((loginId) => userRow(keys, deps.random, 1, { loginId, fullName: loginId, partnerNumber: "1", role: "user", passwordHash: "x", otpEmail: null }));
    await deps.db.insertInto("users").values(rows).execute();
    return deps;
  }

  it("warns, naming the cause and what to do, when the digests were made under another FAMOS_SECRET", async () => {
    const deps = await withAccounts({ ...TEST_KEYS, loginId: Buffer.alloc(32, 9) });
    const { logger, lines } = loggerWithLines();
    await refreshLoginDigestsAfterStart(deps, logger);
    expect(lines.map((l) => [l.level, l.accounts])).toEqual([[WARN, 3]]);
    expect(lines[0]!.msg).toMatch(/another FAMOS_SECRET.*every instance must have the same FAMOS_SECRET/);
    const digests = await deps.db.selectFrom("users").select(["login_key", "login_digest"]).execute();
    expect(digests.every((u) => u.login_digest === loginDigest(deps.keys, u.login_key))).toBe(true);
  });

  it("says nothing when nothing changed", async () => {
    const deps = await withAccounts(TEST_KEYS);
    const { logger, lines } = loggerWithLines();
    await refreshLoginDigestsAfterStart(deps, logger);
    expect(lines).toEqual([]);
  });

  it("logs a failure as an error rather than throw (it runs beside the serving instance)", async () => {
    const deps = await withAccounts(TEST_KEYS);
    const { logger, lines } = loggerWithLines();
    await t!.stores[0]!.close();
    await expect(refreshLoginDigestsAfterStart(deps, logger)).resolves.toBeUndefined();
    expect(lines.map((l) => l.level)).toEqual([ERROR]);
    t!.stores.splice(0);
  });
});

/**
 * Each start read every account to find out whether FAMOS_SECRET had changed (20,000 accounts: 0.3 to
 * 0.6 s of the database's time, at every start of every instance, for nothing almost always). A
 * fingerprint of the key the digests are made under is kept beside them (never the secret nor the key):
 * an unchanged secret costs one read, which reads no account; a changed one is found and the digests
 * made again after listen, with the warning, as before.
 */
describe.each(DIALECTS)("the login ID digests' key fingerprint, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  const other = { ...TEST_KEYS, loginId: Buffer.alloc(32, 5) };

  afterEach(async () => {
    await t?.close();
  });

  async function withAccounts(keys: typeof TEST_KEYS, loginIds = ["Anna", "Ben", "Cleo"]) {
    t = await openInstances(dialect, 1, `digest_fingerprint_${dialect}`);
    const deps = t.deps[0]!;
    const rows = loginIds.map((loginId) => userRow(keys, deps.random, 1, { loginId, fullName: loginId, partnerNumber: "1", role: "user", passwordHash: "x", otpEmail: null }));
    await deps.db.insertInto("users").values(rows).execute();
    return deps;
  }

  /** A start's work on the digests: its log lines, its statements, and the rows they handed to JavaScript. */
  async function start(deps: Awaited<ReturnType<typeof withAccounts>>, keys = deps.keys) {
    const { logger, lines } = loggerWithLines();
    const { plugin, nodes } = captureStatements();
    let rows = 0;
    const counting: KyselyPlugin = { transformQuery: ({ node }) => node, transformResult: async ({ result }) => ((rows += result.rows.length), result) };
    await refreshLoginDigestsAfterStart({ db: deps.db.withPlugin(plugin).withPlugin(counting), keys, dialect: deps.dialect }, logger);
    return { lines, nodes, rows };
  }

  it("an unchanged FAMOS_SECRET: after the first start, one statement, which reads no account whole", async () => {
    const deps = await withAccounts(TEST_KEYS);
    expect((await start(deps)).lines).toEqual([]);
    const again = await start(deps);
    expect(again.lines).toEqual([]);
    expect(again.nodes).toHaveLength(1);
    expect(again.rows).toBeLessThanOrEqual(1);
    expect(await fullReads(t.stores[0]!, again.nodes[0]!, ["users"])).toEqual([]);
  });

  it("a changed FAMOS_SECRET is still found: the digests made again, with the warning; the next start costs one statement", async () => {
    const deps = await withAccounts(TEST_KEYS);
    await start(deps);
    const changed = await start(deps, other);
    expect(changed.lines.map((l) => [l.level, l.accounts])).toEqual([[WARN, 3]]);
    const digests = await deps.db.selectFrom("users").select(["login_key", "login_digest"]).execute();
    expect(digests.every((u) => u.login_digest === loginDigest(other, u.login_key))).toBe(true);
    const next = await start(deps, other);
    expect(next.lines).toEqual([]);
    expect(next.nodes).toHaveLength(1);
    expect(next.rows).toBeLessThanOrEqual(1);
    // Back to the first secret (an instance with the old one started): found again.
    expect((await start(deps)).lines.map((l) => [l.level, l.accounts])).toEqual([[WARN, 3]]);
  });

  it("an account an older instance made without a digest is given one though the secret did not change", async () => {
    const deps = await withAccounts(TEST_KEYS);
    await start(deps);
    await deps.db.updateTable("users").set({ login_digest: null }).where("login_key", "=", "ben").execute();
    expect((await start(deps)).lines.map((l) => [l.level, l.accounts])).toEqual([[WARN, 1]]);
    expect((await deps.db.selectFrom("users").select("login_digest").where("login_key", "=", "ben").executeTakeFirstOrThrow()).login_digest).toBe(loginDigest(TEST_KEYS, "ben"));
    expect((await start(deps)).rows).toBeLessThanOrEqual(1);
  });
});
