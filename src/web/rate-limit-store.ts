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
 * Whether the counts are made in Redis, for famos_request_limits_shared: each change is passed on once.
 * Shared again only when Redis has answered a count (a connection back is not yet a count made there).
 */
class SharingReport {
  constructor(
    private readonly report: (yes: boolean) => void,
    private current: boolean,
  ) {
    report(current);
  }

  tell(yes: boolean): void {
    if (yes === this.current) return;
    this.current = yes;
    this.report(yes);
  }
}

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
    private readonly shared: SharingReport,
  ) {}

  /** Whether this count goes to Redis (then `answered` or `failed` must follow). */
  ask(): boolean {
    if (this.retryAt === null) return true;
    if (this.probing || this.clock.now() < this.retryAt) return false;
    this.probing = true;
    return true;
  }

  answered(): void {
    this.shared.tell(true);
    if (this.retryAt !== null) this.logger.info("Redis answers again: request limits are shared by the instances again");
    this.retryAt = null;
    this.probing = false;
  }

  failed(error: Error | null): void {
    this.shared.tell(false);
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
 * finds Redis gone waits for it, and one probe per cool-off (RedisBreaker). `shared` hears whether the
 * counts are made in Redis (famos_request_limits_shared), so an operator can alert on an outage that
 * leaves sign-ins working.
 */
export function redisOrLocalStore(redis: Redis, nameSpace: string, logger: OutageLogger, clock: Clock, shared: (yes: boolean) => void): FastifyRateLimitStoreCtor {
  const report = new SharingReport(shared, redis.status === "ready");
  // A connection lost while nobody signs in: no count finds it, so the report would still say shared.
  redis.on("close", () => report.tell(false));
  const breaker = new RedisBreaker(clock, logger, report);
  return class {
    constructor(options: RateLimitOptions) {
      const { continueExceeding = false, exponentialBackoff = false } = options;
      return new RedisOrLocal(new RedisStore(continueExceeding, exponentialBackoff, redis, nameSpace), new LocalStore(continueExceeding, exponentialBackoff), breaker);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}

class RedisOrLocal implements FastifyRateLimitStore {
  constructor(
    private readonly shared: RedisStore,
    private readonly local: FastifyRateLimitStore,
    private readonly breaker: RedisBreaker,
  ) {}

  incr(key: string, callback: Count, timeWindow: number, max: number): void {
    if (!this.breaker.ask()) return this.local.incr(key, callback, timeWindow, max);
    countInRedis(this.shared, key, timeWindow, max).then(
      (result) => {
        this.breaker.answered();
        callback(null, result);
      },
      (error: Error) => {
        this.breaker.failed(error);
        this.local.incr(key, callback, timeWindow, max);
      },
    );
  }

  child(routeOptions: RouteOptions): FastifyRateLimitStore {
    return new RedisOrLocal(this.shared.child(routeOptions) as RedisStore, this.local.child(routeOptions), this.breaker);
  }
}

/**
 * RedisStore's count (its script, under its key for the route), with the answer checked before it is
 * read. RedisStore's own incr reads the answer as an array in ioredis's callback, which ioredis runs
 * outside any request and whose exceptions it throws again on a timer: a peer on FAMOS_REDIS_URL that
 * answered a count with anything else (a nil reply) ended the process. Here such an answer is a
 * failed count, as a refused one is.
 */
async function countInRedis(store: RedisStore, key: string, timeWindow: number, max: number): Promise<{ current: number; ttl: number }> {
  const answer = await store.redis.rateLimit(store.key + key, timeWindow, max, store.continueExceeding, store.exponentialBackoff);
  if (!Array.isArray(answer) || !Number.isInteger(answer[0]) || !Number.isInteger(answer[1])) throw new Error("Redis answered a count with something other than two integers");
  return { current: answer[0] as number, ttl: answer[1] as number };
}
