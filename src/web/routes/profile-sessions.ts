import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { html, type SafeHtml } from "../../platform/html.ts";

/**
 * The "your sessions" part of the Profile tab (SPEC item 6: "the user's sessions, with End for each
 * other one"). This is the slot the Profile page renders below its forms: the session-hardening
 * work fills it in here (the list from listUserSessions, an "End" form per other session posting
 * with `csrf`) and registers the routes those forms post to in `profileSessionRoutes`, so
 * src/web/routes/profile.ts does not change for it.
 */
export async function sessionsSection(_deps: Deps, _request: FastifyRequest, _csrf: string): Promise<SafeHtml> {
  return html`<!-- sessions -->`;
}

/** Routes of the sessions part (registered by profileRoutes). */
export function profileSessionRoutes(_app: FastifyInstance, _deps: Deps): void {}
