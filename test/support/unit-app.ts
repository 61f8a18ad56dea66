import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { createServices } from "../../src/app/services.ts";
import { loadConfig, type Config } from "../../src/config/config.ts";
import type { MailTransport } from "../../src/mail/transport.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { openStore } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { buildApp } from "../../src/web/app.ts";
import { TEST_SECRET } from "./app.ts";
import { outboxMailbox, type Mailbox } from "./mailbox.ts";
import { copySqliteTemplate } from "./sqlite-template.ts";

/** The unit tier's FAMOS: in-memory SQLite, a fixed clock, no SMTP (codes are read from the outbox), no sockets. */
export interface UnitApp {
  app: FastifyInstance;
  deps: Deps;
  config: Readonly<Config>;
  clock: FixedClock;
  mailbox: Mailbox;
  close(): Promise<void>;
}

/** Nothing leaves the process: the mail sender is never started, so every message stays in the outbox. */
const NO_TRANSPORT: MailTransport = {
  send: async () => {
    throw new Error("the unit tier sends no mail");
  },
  close: () => undefined,
};

/** The configuration of the unit tier: test defaults, then FAMOS_ variables on top. */
export function unitConfig(env: Record<string, string> = {}): Readonly<Config> {
  const result = loadConfig({
    FAMOS_SECRET: TEST_SECRET,
    FAMOS_DATABASE_URL: "sqlite::memory:",
    FAMOS_SMTP_URL: "smtp://127.0.0.1:9",
    FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
    FAMOS_SUPPORT_EMAIL: "retailit@famos.test",
    FAMOS_RATE_LIMIT: "0",
    ...env,
  });
  if (!result.ok) throw new Error(`test configuration: ${result.errors.join("; ")}`);
  return result.config;
}

/** Domain dependencies over a fresh in-memory database (no HTTP): for the rules of codes, sessions, regulation. */
export async function createUnitDeps(options: { env?: Record<string, string>; clock?: FixedClock } = {}): Promise<{ deps: Deps; clock: FixedClock; close(): Promise<void> }> {
  const config = unitConfig(options.env);
  const clock = options.clock ?? new FixedClock();
  const store = openStore(config.databaseUrl);
  // The schema of a database migrated once per process, not the 25 migrations again for each store.
  if (config.databaseUrl === "sqlite::memory:") await copySqliteTemplate(store.db);
  else await migrateToLatest(store);
  const services = createServices(config, { clock, store, transport: NO_TRANSPORT, logger: pino({ level: "silent" }), startSender: false });
  return { deps: services.deps, clock, close: () => services.close() };
}

/** The whole web application over createUnitDeps, driven through app.inject(). */
export async function createUnitApp(options: { env?: Record<string, string>; clock?: FixedClock } = {}): Promise<UnitApp> {
  const { deps, clock, close } = await createUnitDeps(options);
  const store = { db: deps.db, dialect: deps.dialect, schema: null, close };
  const app = await buildApp({ deps, store });
  await app.ready();
  return {
    app,
    deps,
    config: deps.config,
    clock,
    mailbox: outboxMailbox(deps.db),
    async close() {
      await app.close();
      await close();
    },
  };
}

/**
 * The unit tier's one setup for a test file over the domain (createUnitDeps): made before the file's
 * first test, closed after its last. `deps.mailQueued` counts the sender's wake-ups in `queued`; its
 * sender is not started, so a code's mail is written queued, not claimed (deps.mailLeaseUntil).
 */
export function useUnitDeps(options: { env?: Record<string, string>; clock?: FixedClock } = {}) {
  let unit: Awaited<ReturnType<typeof createUnitDeps>> | undefined;
  let deps: Deps | undefined;
  let queued = 0;
  beforeAll(async () => {
    unit = await createUnitDeps(options);
    deps = {
      ...unit.deps,
      mailQueued: () => {
        queued += 1;
      },
    };
  });
  afterAll(async () => unit?.close());
  const made = () => {
    if (!unit || !deps) throw new Error("useUnitDeps: the deps exist inside tests only");
    return { unit, deps };
  };
  return {
    get deps(): Deps {
      return made().deps;
    },
    get db() {
      return made().deps.db;
    },
    get clock(): FixedClock {
      return made().unit.clock;
    },
    now: () => made().unit.clock.now(),
    /** Times the mail sender was woken since the file began. */
    get queued() {
      return queued;
    },
    /** For each wake-up, in order: the outbox ids handed to the sender by name (none: a plain wake). */
  };
}
