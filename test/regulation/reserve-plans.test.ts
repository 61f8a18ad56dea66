import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counterKey, reserveAttempt, type FailureKind, type Subject } from "../../src/regulation/throttle.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";

const COUNTERS = 3_000;
const SETTINGS = {
  lock: { after: 5, baseMs: 60_000, maxMs: 3_600_000, codeHardLock: 100 },
  address: { lockAfter: 50, windowMs: 900_000, trustedNetworks: [] as string[] },
  deviceLockAfter: 10,
};

/**
 * A factor step's reservation asks the other counters' locks in its own statement (3ff46db: NOT EXISTS
 * a lock in force among them, an OR of two key lists). A spraying run leaves a counter for each login
 * ID it tried, and one that locks them leaves them ever locked (run out, until the cleanup): that
 * condition must reach its counters by the key, never read the throttles whole (nor the ever-locked
 * index whole), for each subject's shape (a new browser: login ID and address; a known one: its device
 * and the login ID). (With no counter ever locked, PostgreSQL rightly reads the empty ever-locked index whole.)
 */
describe.each(DIALECTS)("a reservation's statement, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 1, `reserve_plans_${dialect}`);
    const db = t.deps[0]!.db;
    const rows = Array.from({ length: COUNTERS }, (_, i) => ({ key: counterKey.loginId("password", `sprayed-${i}`), failures: i % 2 === 0 ? 1 : 5, locked_until: i % 2 === 0 ? 0 : 500, hard_locked: 0, updated_at: 1, window_started_at: 0 }));
    for (let i = 0; i < rows.length; i += 500) await db.insertInto("throttles").values(rows.slice(i, i + 500)).execute();
    await sql`analyze`.execute(db);
  });
  afterAll(async () => t?.close());

  it.each([
    ["password", null],
    ["code", null],
    ["reset", null],
    ["password", "dev-1"],
    ["code", "dev-1"],
  ] as [FailureKind, string | null][])("%s, device %s: reads no whole throttles table", async (kind, deviceId) => {
    const { plugin, nodes } = captureStatements();
    const subject: Subject = { loginKey: `plans-${kind}-${deviceId}`, ip: "198.51.100.7", deviceId };
    const now = t.clock.now();
    const r = await reserveAttempt(t.deps[0]!.db.withPlugin(plugin), kind, subject, now, SETTINGS);
    expect(r.ok).toBe(true);
    expect(nodes.length).toBeGreaterThanOrEqual(1);
    const keys = ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"];
    // "other", "told": the condition's and the told lock's aliases, by which SQLite's plan names the table it reads.
    const reads = await Promise.all(nodes.map((node) => fullReads(t.stores[0]!, node, ["throttles", "other", "told"], ["k0", now, ...keys])));
    expect(reads.flat()).toEqual([]);
  });
});
