// The stores @fastify/rate-limit ships (its own files, without type declarations of their own);
// src/web/rate-limit-store.ts combines them.
declare module "@fastify/rate-limit/store/RedisStore.js" {
  import type { FastifyRateLimitStore } from "@fastify/rate-limit";
  import type { Redis } from "ioredis";
  /** Its fields, which src/web/rate-limit-store.ts reads to make RedisStore's count without its callback. */
  interface RedisStore extends FastifyRateLimitStore {
    readonly redis: Redis & { rateLimit(key: string, timeWindow: number, max: number, continueExceeding: boolean, exponentialBackoff: boolean): Promise<unknown> };
    readonly key: string;
    readonly continueExceeding: boolean;
    readonly exponentialBackoff: boolean;
  }
  const RedisStore: new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key?: string) => RedisStore;
  export default RedisStore;
}

declare module "@fastify/rate-limit/store/LocalStore.js" {
  import type { FastifyRateLimitStore } from "@fastify/rate-limit";
  const LocalStore: new (continueExceeding: boolean, exponentialBackoff: boolean, cache?: number) => FastifyRateLimitStore;
  export default LocalStore;
}
