import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCleanup } from "../../src/retention/cleanup.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";

const DAY = 86_400_000;

/**
 * Issue 17, migration 017: the failure counters keep no index on updated_at (every sign-in wrote it
 * twice, in each counter's reservation and clear), and retention finds idle counters by walking the
 * table in key order, a bounded batch of keys at a time. Same rule as before: a counter goes after 30
 * days without a failure, unless it holds a lock in force or a lock until support unlocks it.
 */
describe.each(DIALECTS)("idle failure counters on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 1, `idle_counters_${dialect}`);
  }, 60_000);
  afterAll(async () => t?.close());

  // Beside the key, only migration 024's partial index of the counters that have ever locked (the
  // Rollout page's locked figure): a counter that never locks, every sign-in's, is not in it, and
  // nothing indexes updated_at.
  it("has no index on the counters beside their key but the partial one of counters that ever locked", async () => {
    const db = t.deps[0]!.db;
    const indexes =
      dialect === "sqlite"
        ? (await sql<{ name: string; def: string | null }>`select name, sql as def from sqlite_master where type = 'index' and tbl_name = 'throttles' order by name`.execute(db)).rows
        : (await sql<{ name: string; def: string }>`select indexname as name, indexdef as def from pg_indexes where tablename = 'throttles' and schemaname = current_schema() order by indexname`.execute(db)).rows;
    expect(indexes.map((i) => i.name)).toEqual(dialect === "sqlite" ? ["throttles_ever_locked"] : ["throttles_ever_locked", "throttles_pkey"]);
    const everLocked = indexes.find((i) => i.name === "throttles_ever_locked")!.def ?? "";
    expect(everLocked).toMatch(/\(\s*"?key"?\s*\)\s*WHERE/i);
    expect(everLocked).not.toMatch(/updated_at/);
  });

  it("forgets idle counters across batches in key order and keeps the rest", async () => {
    const deps = t.deps[0]!;
    const now = t.clock.now();
    const idle = now - 31 * DAY;
    const row = (key: string, updated_at: number, locked_until = 0, hard_locked = 0) => ({ key, failures: 2, locked_until, hard_locked, updated_at, window_started_at: 0 });
    // Interleaved in key order, so that kept rows sit between idle ones in every batch of 3.
    const rows = [
      row("code:id:a", idle),
      row("code:id:b", now - 29 * DAY), // counted 29 days ago: kept
      row("code:id:c", idle),
      row("code:id:d", idle, 0, 1), // locked until support unlocks it: kept
      row("ip:192.0.2.1", idle),
      row("ip:192.0.2.2", idle, now + 60_000), // a lock in force: kept
      row("password:id:e", idle),
      row("password:id:f", idle),
      row("password:id:g", idle),
      row("password:id:h", now),
    ];
    await deps.db.insertInto("throttles").values(rows).execute();
    const report = await runCleanup(deps, { batch: 3 });
    expect(report.throttles).toBe(6);
    const left = await deps.db.selectFrom("throttles").select("key").orderBy("key").execute();
    expect(left.map((r) => r.key)).toEqual(["code:id:b", "code:id:d", "ip:192.0.2.2", "password:id:h"]);
    expect((await runCleanup(deps, { batch: 3 })).throttles).toBe(0);
  });
});
