import type { FastifyRequest } from "fastify";
import { isDatabaseUnavailable } from "../store/database-unavailable.ts";

/**
 * A step of a request after its action has committed (the page around what the action produced:
 * notices, the rollout banner), best effort. The action happened, so the error handler's 503 "could
 * not finish, try again" would be untrue, and a try again would be refused or would do it twice: a code
 * is used up, a user created, recovery codes and a temporary password are shown only this once. A
 * failure here is logged at error, one line saying what failed, and the answer goes on with
 * `fallback`. Only for what comes after the commit: a failure before it or during it must stay the 503
 * (or 500) that says nothing was kept. What must be kept with the action belongs in its transaction.
 */
export async function afterCommit<T>(request: FastifyRequest, what: string, step: () => Promise<T>, fallback: () => T): Promise<T> {
  try {
    return await step();
  } catch (error) {
    request.log.error(failureDetail(what, error), "failed after the commit; answered with what was done");
    return fallback();
  }
}

/**
 * A log line's fields for a step that failed where no error page can answer (here, and after-reply.ts):
 * the driver's code and message only for an unavailable database, as web/errors.ts logs them (never
 * the statement's parameters); a fault of ours with its stack.
 */
export function failureDetail(what: string, error: unknown): Record<string, unknown> {
  return isDatabaseUnavailable(error) ? { after: what, code: (error as { code?: unknown }).code, reason: (error as Error).message } : { after: what, err: error };
}
