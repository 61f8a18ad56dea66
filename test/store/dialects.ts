import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import pino from "pino";
import { afterAll, beforeAll } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import type { MailTransport } from "../../src/mail/transport.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { TEST_SECRET } from "../support/app.ts";
import { migratedPostgresTestUrl } from "../support/pg-template.ts";
import { postgresTestUrl } from "../support/services.ts";
import { migratedSqliteTemplate } from "../support/sqlite-template.ts";

export const DIALECTS = ["sqlite", "postgres"] as const;
export type TestDialect = (typeof DIALECTS)[number];

/** A database of its own: a SQLite file, or a fresh schema on the local PostgreSQL (never skipped). */
export interface TestDatabase {
  url: string;
  /** Removes the file or drops the schema; close every store on it first. */
  drop(): Promise<void>;
}

export async function testDatabase(dialect: TestDialect, prefix: string): Promise<TestDatabase> {
  if (dialect === "postgres") {
    const pg = await postgresTestUrl(prefix);
    return { url: pg.url, drop: () => pg.drop() };
  }
  const dir = mkdtempSync(join(tmpdir(), `famos-${prefix}-`));
  return { url: `sqlite:${join(dir, "famos.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A database of its own already at the latest migration: a copy of the SQLite file, or of the
 * PostgreSQL schema, that the test process migrated once (sqlite-template.ts, pg-template.ts).
 */
export async function migratedTestDatabase(dialect: TestDialect, prefix: string): Promise<TestDatabase> {
  if (dialect === "postgres") {
    const pg = await migratedPostgresTestUrl(prefix);
    return { url: pg.url, drop: () => pg.drop() };
  }
  const dir = mkdtempSync(join(tmpdir(), `famos-${prefix}-`));
  copyFileSync(await migratedSqliteTemplate(), join(dir, "famos.db"));
  return { url: `sqlite:${join(dir, "famos.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

const NO_MAIL: MailTransport = { send: async () => undefined, close: () => undefined };

/**
 * `count` independent connections (each its own Store: a pool on PostgreSQL, a connection to the
 * same file on SQLite) to one migrated database (migratedTestDatabase), each with the Deps domain functions need, as if
 * they were separate instances. All share one FixedClock.
 */
export async function openInstances(dialect: TestDialect, count: number, prefix = "store", env: Record<string, string> = {}) {
  const database = await migratedTestDatabase(dialect, prefix);
  const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: database.url, FAMOS_RATE_LIMIT: "0", ...env });
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  const clock = new FixedClock();
  const stores: Store[] = [];
  const deps: Deps[] = [];
  for (let i = 0; i < count; i += 1) {
    const store = openStore(database.url);
    stores.push(store);
    deps.push(
      createServices(loaded.config, { store, clock, transport: NO_MAIL, logger: pino({ level: "silent" }), startSender: false }).deps,
    );
  }
  return {
    database,
    stores,
    deps,
    clock,
    async close() {
      for (const store of stores) await store.close();
      await database.drop();
    },
  };
}

/**
 * Two requests racing, as they race in production: on PostgreSQL on two instances (two pools, as two
 * servers), on SQLite on one (one server's one connection; two connections in one process would wait
 * for each other's lock inside a synchronous call). Opens them before the file's tests and closes them
 * after. `pair()` gives the two racers (the same one twice on SQLite), each with a connection already
 * open, so that neither starts late by connecting while the other finishes.
 */
export function useRacers(dialect: TestDialect, prefix: string) {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, dialect === "postgres" ? 2 : 1, `${prefix}_${dialect}`);
  });
  afterAll(async () => t?.close());
  return {
    now: () => t.clock.now(),
    async pair(): Promise<[Deps, Deps]> {
      const racers: [Deps, Deps] = [t.deps[0]!, t.deps.at(-1)!];
      await Promise.all(racers.map((deps) => sql`select 1`.execute(deps.db)));
      return racers;
    },
  };
}
