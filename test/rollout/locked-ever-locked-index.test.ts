import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { counterKey } from "../../src/regulation/counter-key.ts";
import { SIGN_IN_KINDS } from "../../src/regulation/throttle.ts";
import { lockedUsersByPartner } from "../../src/rollout/progress.ts";
import type { Store } from "../../src/store/database.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { userRow } from "../../src/users/users.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { captureStatements, planText } from "../support/statement-plans.ts";

const SPRAYED = 20_000;

/**
 * The Rollout page's locked figure reads each kind's login counters by a range of the key (1975673),
 * but a password-spraying run leaves a counter for every login ID it tried, inside that range, until
 * the cleanup removes it: the figure read all of them to find the few locked. Counters that have ever
 * locked (migration 024's partial index, the same condition in the query) are the ones it reads.
 */
describe.each(DIALECTS)("the locked figure reads only counters that have ever locked, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let deps: Deps;
  let store: Store;
  const now = 9_000_000;

  beforeAll(async () => {
    t = await openInstances(dialect, 1, `ever_locked_${dialect}`);
    deps = t.deps[0]!;
    store = t.stores[0]!;
    const users = Array.from({ length: 30 }, (_, j) => userRow(deps.keys, deps.random, 1, { loginId: `staff.${j}`, fullName: "S", partnerNumber: String(1 + (j % 2)), role: "user", passwordHash: "x", otpEmail: null }));
    await deps.db.insertInto("users").values(users).execute();
    // A spraying run's leftovers: one to four wrong passwords each, never locked.
    const sprayed = Array.from({ length: SPRAYED }, (_, i) => ({ key: counterKey.loginId(i % 2 ? "password" : "code", loginDigest(deps.keys, `sprayed.${i}`)), failures: 1 + (i % 4), locked_until: 0, hard_locked: 0, updated_at: now, window_started_at: 0 }));
    for (let i = 0; i < sprayed.length; i += 1_000) await deps.db.insertInto("throttles").values(sprayed.slice(i, i + 1_000)).execute();
    const locks = [
      { key: counterKey.loginId("password", loginDigest(deps.keys, "staff.1")), failures: 5, locked_until: now + 60_000, hard_locked: 0, updated_at: now, window_started_at: 0 },
      { key: counterKey.loginId("code", loginDigest(deps.keys, "staff.2")), failures: 100, locked_until: 0, hard_locked: 1, updated_at: now, window_started_at: 0 },
      // A lock run out: ever locked, not now.
      { key: counterKey.loginId("password", loginDigest(deps.keys, "staff.3")), failures: 5, locked_until: now - 1, hard_locked: 0, updated_at: now, window_started_at: 0 },
    ];
    await deps.db.insertInto("throttles").values(locks).execute();
    await sql`analyze`.execute(deps.db);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("counts the locked accounts, through the index of counters that have ever locked for every kind", async () => {
    const { plugin, nodes } = captureStatements();
    expect(Object.fromEntries(await lockedUsersByPartner({ ...deps, db: deps.db.withPlugin(plugin) }, now))).toEqual({ "2": 1, "1": 1 });
    const lockRead = nodes.find((node) => JSON.stringify(node).includes("throttles"))!;
    const plan = await planText(store, lockRead);
    expect(plan.match(/throttles_ever_locked/g)?.length ?? 0).toBeGreaterThanOrEqual(SIGN_IN_KINDS.length);
    expect(plan).not.toMatch(/throttles_pkey|sqlite_autoindex_throttles/);
  });
});
