import type { FastifyContextConfig, FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { loginKey } from "../users/users.ts";
import { knownDevice } from "./device-cookie.ts";

/**
 * Per-route request limit for the sign-in, code and regenerate routes: FAMOS_RATE_LIMIT requests per
 * minute per client address (ASVS 2.2.1), shared through Redis when FAMOS_REDIS_URL is set. Staff of
 * one dealership share one address, so only strangers spend the budget: a signed-in session and a
 * browser holding a live device cookie for the login ID are not counted (SPEC "Request limits"). It runs
 * after the session is loaded and the form parsed (preHandler) so it can tell them apart.
 */
export function rateLimited(deps: Deps): FastifyContextConfig {
  const max = deps.config.rateLimitPerMinute;
  if (max === 0) return {};
  return { rateLimit: { max, timeWindow: 60_000, hook: "preHandler", allowList: (request: FastifyRequest) => notCounted(deps, request) } } as FastifyContextConfig;
}

/**
 * A signed-in session first (no read); a live device cookie for the login ID (one read, only when its
 * MAC fits). A public form (sign-in, "Forgot password?") is about the login ID it names, whoever sends
 * it: a signed-in session posting another login ID there is a stranger to that login ID, else any
 * account's session would spray colleagues' passwords (and spend argon2id) past the limit.
 */
async function notCounted(deps: Deps, request: FastifyRequest): Promise<boolean> {
  const famos = request.famos;
  const body = request.body as Record<string, unknown> | undefined;
  const loginId = request.routeOptions.config.access === "public" ? body?.loginId : famos?.user.login_id;
  if (famos?.session.stage === "full" && typeof loginId === "string" && loginKey(loginId) === famos.user.login_key) return true;
  return knownDevice(deps, request, loginId);
}
