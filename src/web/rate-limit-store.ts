import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor, RateLimitOptions } from "@fastify/rate-limit";
import LocalStore from "@fastify/rate-limit/store/LocalStore.js";
import RedisStore from "@fastify/rate-limit/store/RedisStore.js";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

type Count = Parameters<FastifyRateLimitStore["incr"]>[1];
type RouteOptions = Parameters<FastifyRateLimitStore["child"]>[0];

/** Whether Redis answered the last count; shared by every route's store, so an outage is logged once. */
interface Outage {
  on: boolean;
  logger: Pick<Logger, "warn" | "info">;
}

/**
 * The request limits' store with FAMOS_REDIS_URL: counts in Redis, shared by every instance, and on
 * this instance alone (the plugin's in-memory store) while Redis does not answer — refused, or hung
 * past the client's command timeout (src/app/redis.ts) — so an outage neither holds sign-ins nor
 * lifts the limit: it is per instance, as without Redis (SPEC "Request limits").
 */
export function redisOrLocalStore(redis: Redis, nameSpace: string, logger: Pick<Logger, "warn" | "info">): FastifyRateLimitStoreCtor {
  const outage: Outage = { on: false, logger };
  return class {
    constructor(options: RateLimitOptions) {
      const { continueExceeding = false, exponentialBackoff = false } = options;
      return new RedisOrLocal(new RedisStore(continueExceeding, exponentialBackoff, redis, nameSpace), new LocalStore(continueExceeding, exponentialBackoff), outage);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}

class RedisOrLocal implements FastifyRateLimitStore {
  constructor(
    private readonly shared: FastifyRateLimitStore,
    private readonly local: FastifyRateLimitStore,
    private readonly outage: Outage,
  ) {}

  incr(key: string, callback: Count, timeWindow: number, max: number): void {
    this.shared.incr(
      key,
      (error, result) => {
        if (error === null && result !== undefined) {
          if (this.outage.on) this.outage.logger.info("Redis answers again: request limits are shared by the instances again");
          this.outage.on = false;
          return callback(null, result);
        }
        if (!this.outage.on) this.outage.logger.warn({ err: error?.message }, "Redis did not answer: request limits are per instance until it is back");
        this.outage.on = true;
        this.local.incr(key, callback, timeWindow, max);
      },
      timeWindow,
      max,
    );
  }

  child(routeOptions: RouteOptions): FastifyRateLimitStore {
    return new RedisOrLocal(this.shared.child(routeOptions), this.local.child(routeOptions), this.outage);
  }
}
