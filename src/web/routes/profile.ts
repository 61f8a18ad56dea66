import type { FastifyInstance } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { html } from "../../platform/html.ts";
import { signedIn } from "../auth.ts";
import { portalPage, profileFacts } from "../pages/portal-pages.ts";
import { portalFrame } from "./portal.ts";

/** Screen 6, the "Profile" tab. */
export function profileRoutes(app: FastifyInstance, deps: Deps): void {
  app.get("/profile", { config: { access: "full" } }, async (request, reply) => {
    const frame = await portalFrame(deps, request, reply);
    const { user } = signedIn(request);
    return reply
      .type("text/html; charset=utf-8")
      .send(portalPage(frame, "Profile", "/profile", html`<h1>Profile</h1>${profileFacts(user)}`));
  });
}
