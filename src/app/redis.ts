import { Redis } from "ioredis";
import type { Logger } from "pino";

/** The client class, for code that loads this module lazily (famos doctor). */
export { Redis };

/** How long a count may take in Redis before the request is counted on this instance instead. */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

/**
 * The Redis client behind the shared request limits (FAMOS_REDIS_URL). Commands fail at once while
 * Redis is unreachable rather than queueing, and after REDIS_COMMAND_TIMEOUT_MS when it hangs (a sign-in
 * must not wait for it); the request is then counted on this instance, and so are the others of the
 * next few seconds without asking Redis (the circuit breaker in src/web/rate-limit-store.ts),
 * and the database-backed locks still count every failure. The client reconnects by itself.
 */
export async function openRedis(url: string, logger: Pick<Logger, "warn" | "error">, readyTimeoutMs = 5000): Promise<Redis> {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 3000,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let reported = false;
  redis.on("error", (error: Error) => {
    // One line per outage, not one per reconnect attempt.
    if (!reported) logger.error({ err: error.message }, "Redis unreachable: request limits are per instance until it is back");
    reported = true;
  });
  redis.on("ready", () => (reported = false));
  // Wait for the first connection, so limits are shared from the first request; if Redis is down
  // the server starts anyway (limits fail open, see above) and connects when Redis returns.
  const timer = new Promise<void>((resolve) => setTimeout(resolve, readyTimeoutMs).unref());
  await Promise.race([redis.connect().catch(() => undefined), timer]);
  if (redis.status !== "ready") logger.warn({ status: redis.status }, "Redis not ready at start");
  return redis;
}
