import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor, RateLimitOptions } from "@fastify/rate-limit";
import LocalStore from "@fastify/rate-limit/store/LocalStore.js";
import RedisStore from "@fastify/rate-limit/store/RedisStore.js";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Clock } from "../platform/clock.ts";

type Count = Parameters<FastifyRateLimitStore["incr"]>[1];
type RouteOptions = Parameters<FastifyRateLimitStore["child"]>[0];
type OutageLogger = Pick<Logger, "warn" | "info">;

/** After Redis failed a count, how long every count is made on this instance before Redis is asked again. */
export const REDIS_COOL_OFF_MS = 5000;

/**
 * A circuit breaker over Redis, shared by every route's store, so an outage is logged once and Redis is
 * asked once per cool-off. Closed while Redis answers. A count Redis did not answer (refused, or hung
 * past the client's command timeout) opens it: for REDIS_COOL_OFF_MS every count is made on the
 * instance at once, instead of each request waiting that timeout for a Redis that is still gone. Then
 * one count probes Redis while the others stay local; its answer closes the breaker, its failure
 * opens it for another cool-off.
 */
class RedisBreaker {
  /** When Redis may be asked again; null while it answers. */
  private retryAt: number | null = null;
  private probing = false;

  constructor(
    private readonly clock: Clock,
    private readonly logger: OutageLogger,
  ) {}

  /** Whether this count goes to Redis (then `answered` or `failed` must follow). */
  ask(): boolean {
    if (this.retryAt === null) return true;
    if (this.probing || this.clock.now() < this.retryAt) return false;
    this.probing = true;
    return true;
  }

  answered(): void {
    if (this.retryAt !== null) this.logger.info("Redis answers again: request limits are shared by the instances again");
    this.retryAt = null;
    this.probing = false;
  }

  failed(error: Error | null): void {
    if (this.retryAt === null) this.logger.warn({ err: error?.message }, "Redis did not answer: request limits are per instance until it is back");
    this.retryAt = this.clock.now() + REDIS_COOL_OFF_MS;
    this.probing = false;
  }
}

/**
 * The request limits' store with FAMOS_REDIS_URL: counts in Redis, shared by every instance, and on
 * this instance alone (the plugin's in-memory store) while Redis does not answer — refused, or hung
 * past the client's command timeout (src/app/redis.ts) — so an outage neither holds sign-ins nor
 * lifts the limit: it is per instance, as without Redis (SPEC "Request limits"). Only the count that
 * finds Redis gone waits for it, and one probe per cool-off (RedisBreaker).
 */
export function redisOrLocalStore(redis: Redis, nameSpace: string, logger: OutageLogger, clock: Clock): FastifyRateLimitStoreCtor {
  const breaker = new RedisBreaker(clock, logger);
  return class {
    constructor(options: RateLimitOptions) {
      const { continueExceeding = false, exponentialBackoff = false } = options;
      return new RedisOrLocal(new RedisStore(continueExceeding, exponentialBackoff, redis, nameSpace), new LocalStore(continueExceeding, exponentialBackoff), breaker);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}

class RedisOrLocal implements FastifyRateLimitStore {
  constructor(
    private readonly shared: FastifyRateLimitStore,
    private readonly local: FastifyRateLimitStore,
    private readonly breaker: RedisBreaker,
  ) {}

  incr(key: string, callback: Count, timeWindow: number, max: number): void {
    if (!this.breaker.ask()) return this.local.incr(key, callback, timeWindow, max);
    this.shared.incr(
      key,
      (error, result) => {
        if (error === null && result !== undefined) {
          this.breaker.answered();
          return callback(null, result);
        }
        this.breaker.failed(error);
        this.local.incr(key, callback, timeWindow, max);
      },
      timeWindow,
      max,
    );
  }

  child(routeOptions: RouteOptions): FastifyRateLimitStore {
    return new RedisOrLocal(this.shared.child(routeOptions), this.local.child(routeOptions), this.breaker);
  }
}
