import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Redis } from "ioredis";
import pg from "pg";

/** The machine's PostgreSQL (trust auth) and Redis, started before the tests (see .ci/run). */
export const POSTGRES_TEST_SERVER = "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_TEST_HOST = "127.0.0.1";
export const REDIS_TEST_PORT = 6379;

export interface PostgresTestSchema {
  /** `postgres://postgres@127.0.0.1:5432/test?schema=<schema>`, for `openStore()` / FAMOS_DATABASE_URL. */
  url: string;
  schema: string;
  /** Drops the schema and everything in it (close the app's pool first). Safe to call twice. */
  drop(): Promise<void>;
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(errorText).join("; ") || error.message;
  return error instanceof Error ? error.message || error.name : String(error);
}

async function withPostgres<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_SERVER, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_TEST_SERVER} (${errorText(error)}). ` +
        "These tests need it and never skip: start it with " +
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (or run .ci/run).",
      { cause: error },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates a fresh, uniquely named schema in the `test` database of the local PostgreSQL and returns a
 * URL that points the app's store at it. Throws (never skips) when PostgreSQL is not running.
 * `create` gives the statements that make the schema (default: an empty one; see pg-template.ts).
 */
export async function postgresTestUrl(prefix = "t", create = (schema: string) => `CREATE SCHEMA "${schema}"`): Promise<PostgresTestSchema> {
  let base = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 32);
  if (!/^[a-z]/.test(base)) base = `t_${base}`;
  const schema = `${base}_${process.pid}_${randomBytes(4).toString("hex")}`; // ≤ 63 characters
  await withPostgres((client) => client.query(create(schema)));
  let dropped = false;
  return {
    url: `${POSTGRES_TEST_SERVER}?schema=${schema}`,
    schema,
    async drop() {
      if (dropped) return;
      await withPostgres(async (client) => {
        await client.query("SET lock_timeout = '15s'");
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      });
      dropped = true;
    },
  };
}

// Redis has 16 numbered databases and several test processes (two workers per run, and other runs on
// the same machine) share one server. Each test process claims a database 1..15 of its own with a key
// in database 0 and flushes it, so a test file starts empty and sees nobody else's keys. A claim whose
// process has died is taken over; the expiry is a backstop only.
const CLAIM_PREFIX = "famos-test:redis-db-claim:";
const CLAIM_TTL_MS = 60 * 60_000;
const TAKE_OVER = `if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
end
return false`;

let claimedUrl: Promise<string> | undefined;
/** Whether the claimed database has been emptied for the test file now running (see newTestFile). */
let emptiedForThisFile = false;

function processIsGone(owner: string): boolean {
  const [host, pid] = owner.split(":");
  if (host !== hostname() || pid === undefined || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

async function claimRedisDatabase(): Promise<string> {
  const where = `redis://${REDIS_TEST_HOST}:${REDIS_TEST_PORT}`;
  const client = new Redis({
    host: REDIS_TEST_HOST,
    port: REDIS_TEST_PORT,
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  client.on("error", (error: unknown) => (lastError = error)); // reported below, with the failed command
  try {
    try {
      await client.connect();
      const answer = await client.ping();
      if (answer !== "PONG") throw new Error(`PING answered ${JSON.stringify(answer)}`);
    } catch (error) {
      const reason = lastError === undefined ? errorText(error) : `${errorText(lastError)}; ${errorText(error)}`;
      throw new Error(
        `Redis is not reachable at ${where} (${reason}). These tests need it and never skip: ` +
          'start it with `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" ' +
          "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log` (or run .ci/run).",
        { cause: error },
      );
    }
    const owner = `${hostname()}:${process.pid}`;
    const holders: string[] = [];
    for (let db = 1; db <= 15; db += 1) {
      const key = `${CLAIM_PREFIX}${db}`;
      let claimed = (await client.set(key, owner, "PX", CLAIM_TTL_MS, "NX")) === "OK";
      if (!claimed) {
        const holder = await client.get(key);
        if (holder !== null && processIsGone(holder)) {
          claimed = (await client.eval(TAKE_OVER, 1, key, holder, owner, String(CLAIM_TTL_MS))) === "OK";
        }
        if (!claimed) holders.push(`${db}: ${holder ?? "?"}`);
      }
      if (claimed) {
        await client.select(db);
        await client.flushdb();
        return `${where}/${db}`;
      }
    }
    throw new Error(`all Redis test databases 1..15 at ${where} are claimed by running processes (${holders.join(", ")})`);
  } finally {
    client.disconnect();
  }
}

/**
 * Checks that the local Redis answers and returns `redis://127.0.0.1:6379/<db>`: a database that this
 * test process has to itself, emptied at the first call of each test file (later calls in the same file
 * return the same database without emptying it). Throws (never skips) when Redis is not running.
 */
export async function redisTestUrl(): Promise<string> {
  const first = claimedUrl === undefined;
  claimedUrl ??= claimRedisDatabase().catch((error: unknown) => {
    claimedUrl = undefined;
    throw error;
  });
  const url = await claimedUrl;
  if (!first && !emptiedForThisFile) await emptyDatabase(url);
  emptiedForThisFile = true;
  return url;
}

/**
 * A worker process runs many test files one after another (vitest.config.ts: `isolate: false`), and
 * keeps this module loaded between them: the next file's first redisTestUrl() empties the database
 * again, so each file still starts with no keys of an earlier one. Called by test/support/per-file.ts.
 */
export function newTestFile(): void {
  emptiedForThisFile = false;
}

async function emptyDatabase(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    await client.flushdb();
  } finally {
    client.disconnect();
  }
}
