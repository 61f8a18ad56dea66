import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { Deps } from "../../src/app/deps.ts";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import type { MailTransport } from "../../src/mail/transport.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { TEST_SECRET } from "../support/app.ts";
import { postgresTestUrl } from "../support/services.ts";

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

const NO_MAIL: MailTransport = { send: async () => undefined, close: () => undefined };

/**
 * `count` independent connections (each its own Store: a pool on PostgreSQL, a connection to the
 * same file on SQLite) to one migrated database, each with the Deps domain functions need, as if
 * they were separate instances. All share one FixedClock.
 */
export async function openInstances(dialect: TestDialect, count: number, prefix = "store") {
  const database = await testDatabase(dialect, prefix);
  const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: database.url, FAMOS_RATE_LIMIT: "0" });
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  const clock = new FixedClock();
  const stores: Store[] = [];
  const deps: Deps[] = [];
  for (let i = 0; i < count; i += 1) {
    const store = openStore(database.url);
    if (i === 0) await migrateToLatest(store);
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
