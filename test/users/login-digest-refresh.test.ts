import { afterEach, describe, expect, it } from "vitest";
import { refreshLoginDigestsAfterStart } from "../../src/app/login-digest-refresh.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { userRow } from "../../src/users/users.ts";
import { TEST_KEYS } from "../support/login-counter.ts";
import { ERROR, loggerWithLines, WARN } from "../support/log-lines.ts";
import { openInstances } from "../store/dialects.ts";

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
