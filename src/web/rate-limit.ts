import type { FastifyContextConfig } from "fastify";
import type { Deps } from "../app/deps.ts";

/**
 * Per-route request limit for the sign-in, code and regenerate routes: FAMOS_RATE_LIMIT requests per
 * minute per client address (ASVS 2.2.1), shared through Redis when FAMOS_REDIS_URL is set.
 */
export function rateLimited(deps: Deps): FastifyContextConfig {
  const max = deps.config.rateLimitPerMinute;
  if (max === 0) return {};
  return { rateLimit: { max, timeWindow: 60_000 } } as FastifyContextConfig;
}
