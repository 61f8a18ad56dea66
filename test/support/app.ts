import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import type { Deps } from "../../src/app/deps.ts";
import { createServices, type Services } from "../../src/app/services.ts";
import { openRedis } from "../../src/app/redis.ts";
import { loadConfig, type Config } from "../../src/config/config.ts";
import { sendingOptions, smtpTransport } from "../../src/mail/transport.ts";
import { hashPassword } from "../../src/password/hash.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { openStore } from "../../src/store/database.ts";
import { migrateDatabase, migrateToLatest } from "../../src/store/migrate.ts";
import { createUser, type Role, type User } from "../../src/users/users.ts";
import { buildApp } from "../../src/web/app.ts";
import { smtpMailbox, type Mailbox } from "./mailbox.ts";
import { migratedPostgresTestUrl } from "./pg-template.ts";
import { migratedSqliteTemplate } from "./sqlite-template.ts";
import { startSmtpServer, type TestSmtpServer } from "./smtp.ts";

export const TEST_SECRET = "a".repeat(64);

export interface TestApp {
  app: FastifyInstance;
  deps: Deps;
  services: Services;
  config: Readonly<Config>;
  clock: FixedClock;
  smtp: TestSmtpServer;
  /** Codes as mailed, read from `smtp` (see signIn in client.ts). */
  mailbox: Mailbox;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** FAMOS_ variables on top of the test defaults. */
  env?: Record<string, string>;
  /** "sqlite" (a temporary file, default) or "postgres" (a schema of its own on the local server). */
  database?: "sqlite" | "postgres";
  clock?: FixedClock;
  /** SQLite: checkpoint on a thread of its own, as `famos serve` does (bench/app-cpu.ts). */
  backgroundCheckpoints?: boolean;
  /** How often open proxied WebSockets are rechecked (default WEBSOCKET_RECHECK_MS); an hour keeps the timer out of a test's way. */
  webSocketRecheckMs?: number;
  /** The services' logger (default silent): a test that reads what the operator's log says gives its own. */
  logger?: Logger;
  /** The test relay asks for AUTH with these users (startSmtpServer's `users`), and FAMOS logs in as `login`. */
  relayAuth?: { users: Record<string, string>; login: { user: string; pass: string } };
  /** FAMOS_SMTP_URL's relay instead of the test's own (a relay a test made to fail: no TLS, …); the test relay still runs. */
  relayUrl?: string;
  /** The app's own request logger (default none, as Fastify's `logger: false`): a test that reads what requests log gives one. */
  requestLogger?: Logger;
  /** Called with the app before it is ready: a test adds a hook of its own (plan-actor-changed-route.test changes a role after the session's read). */
  beforeReady?: (app: FastifyInstance) => void;
}

/**
 * A complete FAMOS on real parts: a SQLite file (or PostgreSQL schema), a real SMTP server in this
 * process, a fixed clock. Request limits are off unless a test sets FAMOS_RATE_LIMIT.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const smtp = await startSmtpServer(options.relayAuth ? { users: options.relayAuth.users } : {});
  const login = options.relayAuth?.login;
  const smtpUrl = login ? smtp.url.replace("smtp://", `smtp://${encodeURIComponent(login.user)}:${encodeURIComponent(login.pass)}@`) : smtp.url;
  const dir = mkdtempSync(join(tmpdir(), "famos-test-"));
  // A schema of its own, a copy of a migrated one (pg-template.ts); the app still migrates it below.
  const pg = options.database === "postgres" ? await migratedPostgresTestUrl("app") : null;
  const env = {
    FAMOS_SECRET: TEST_SECRET,
    FAMOS_DATABASE_URL: pg ? pg.url : `sqlite:${join(dir, "famos.db")}`,
    FAMOS_SMTP_URL: smtpUrl,
    FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
    FAMOS_SUPPORT_EMAIL: "retailit@famos.test",
    FAMOS_RATE_LIMIT: "0",
    ...options.env,
  };
  const result = loadConfig(env);
  if (!result.ok) throw new Error(`test configuration: ${result.errors.join("; ")}`);
  const config = result.config;
  const clock = options.clock ?? new FixedClock();
  // Bounded as `famos serve` bounds its statements (FAMOS_DATABASE_TIMEOUT, on PostgreSQL).
  // Migrated as `famos serve` migrates: PostgreSQL first, on a connection of its own whose statements
  // FAMOS_DATABASE_TIMEOUT does not bound (a test's short bound would cut off the migrator's catalogue
  // queries on a busy machine); SQLite on the server's own connection.
  const postgres = !config.databaseUrl.startsWith("sqlite:");
  if (postgres) await migrateDatabase(config.databaseUrl);
  // The app's own new file (not a database a test named in FAMOS_DATABASE_URL): a copy of the migrated template.
  else if (config.databaseUrl === `sqlite:${join(dir, "famos.db")}`) copyFileSync(await migratedSqliteTemplate(), join(dir, "famos.db"));
  const store = openStore(config.databaseUrl, { statementTimeoutMs: config.databaseTimeoutMs, ...(options.backgroundCheckpoints ? { backgroundCheckpoints: {} } : {}) });
  if (!postgres) await migrateToLatest(store);
  const services = createServices(config, {
    clock,
    store,
    transport: smtpTransport(options.relayUrl ?? smtpUrl, sendingOptions(config)),
    logger: options.logger ?? pino({ level: "silent" }),
    dataDir: dir,
  });
  // FAMOS_REDIS_URL in `env` shares request limits through Redis, as `famos serve` does.
  const redis = config.redisUrl ? await openRedis(config.redisUrl, services.deps.logger) : null;
  const app = await buildApp({ deps: services.deps, store, redis, ...(options.requestLogger ? { loggerInstance: options.requestLogger } : {}), ...(options.webSocketRecheckMs ? { webSocketRecheckMs: options.webSocketRecheckMs } : {}) });
  options.beforeReady?.(app);
  await app.ready();
  return {
    app,
    deps: services.deps,
    services,
    config,
    clock,
    smtp,
    mailbox: smtpMailbox(smtp),
    async close() {
      await app.close();
      await services.close();
      redis?.disconnect();
      await smtp.stop();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestUserInput {
  loginId?: string;
  password?: string;
  fullName?: string;
  partnerNumber?: string;
  role?: Role;
  /** A confirmed OTP email, or null for a user who enrols at first sign-in. */
  email?: string | null;
}

let counter = 0;

/**
 * One argon2id hash per password for the users tests add (the worker keeps it from file to file): a
 * hash at production cost is tens of milliseconds of CPU, and the suite adds some six hundred users,
 * most with the default password. Each is a real hash of its password with FAMOS's parameters, so a
 * sign-in verifies it at the same cost and nothing is upgraded; users with the same password share
 * its salt, which no test reads (a password the application sets is hashed afresh by it).
 */
const seededHashes = new Map<string, Promise<string>>();
function seededHash(password: string): Promise<string> {
  let hash = seededHashes.get(password);
  if (hash === undefined) {
    hash = hashPassword(password);
    seededHashes.set(password, hash);
    hash.catch(() => seededHashes.delete(password));
  }
  return hash;
}

/** Adds a user straight to storage. The default password is "correct horse battery staple". */
export async function addUser(deps: Deps, input: TestUserInput = {}): Promise<User & { password: string }> {
  // Taken before the first await: users added at once (Promise.all) each get their own number.
  const n = (counter += 1);
  const password = input.password ?? "correct horse battery staple";
  const loginId = input.loginId ?? `user${n}`;
  const user = await createUser(deps.db, deps.keys, deps.random, deps.clock.now(), {
    loginId,
    fullName: input.fullName ?? "Jane Smith",
    partnerNumber: input.partnerNumber ?? "01234",
    role: input.role ?? "user",
    passwordHash: await seededHash(password),
    otpEmail: input.email === undefined ? `user${n}@dealer.example` : input.email,
  });
  if (!user) throw new Error(`addUser: a user with login ID "${loginId}" exists already`);
  return { ...user, password };
}

/** Makes a test app listen on a loopback port (for browsers and real clients); returns its base URL. */
export async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ host: "127.0.0.1", port: 0 });
  const address = t.app.server.address();
  if (typeof address !== "object" || address === null) throw new Error("the test app is not listening on a TCP port");
  return `http://127.0.0.1:${address.port}`;
}
