import type { FastifyInstance } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { needsAttention } from "../../support/attention.ts";
import { attentionPage } from "../pages/support-attention-pages.ts";
import { portalFrame } from "./portal.ts";

/** `/support/attention`: "Needs attention" (issue 15). */
export function supportAttentionRoutes(app: FastifyInstance, deps: Deps): void {
  app.get("/support/attention", { config: { access: "support" } }, async (request, reply) => {
    const frame = await portalFrame(deps, request, reply);
    return reply.type("text/html; charset=utf-8").send(attentionPage(frame, await needsAttention(deps)));
  });
}
