import type { FastifyInstance } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { factorsOf } from "../../strong-factors/factors.ts";
import { refusal } from "../../support/acting.ts";
import { removeSecondFactors } from "../../support/remove-factors.ts";
import { HttpProblem } from "../errors.ts";
import { parseForm, ticketField } from "../forms.ts";
import { factorsConfirmPage } from "../pages/support-factor-pages.ts";
import { portalFrame } from "./portal.ts";
import { acting, targetUser } from "./support-acting.ts";
import { requestProblems } from "./support-problems.ts";

const HTML = "text/html; charset=utf-8";

/** Issue 13: the console's "Remove second factors", with its confirmation step. */
export function supportFactorRoutes(app: FastifyInstance, deps: Deps): void {
  const support = { config: { access: "support" as const } };

  app.post("/support/users/:id/factors", support, async (request, reply) => {
    const user = await targetUser(deps, request);
    parseForm({}, request.body);
    const refused = refusal(acting(request), user, "factors");
    if (refused) throw new HttpProblem(403, refused.message);
    const frame = await portalFrame(deps, request, reply);
    return reply.type(HTML).send(factorsConfirmPage(frame, user, await factorsOf(deps.db, user.id)));
  });

  app.post("/support/users/:id/factors/confirm", { config: { access: "support", consoleWrite: "step-up", consoleSection: "users" } }, async (request, reply) => {
    const user = await targetUser(deps, request);
    const form = parseForm({ ticket: ticketField().optional() }, request.body);
    const outcome = await removeSecondFactors(deps, acting(request), user.id, form.ticket);
    if (outcome.kind === "not-found") throw new HttpProblem(404, "There is no such user.");
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    if (outcome.kind === "ticket") {
      const frame = await portalFrame(deps, request, reply);
      const page = factorsConfirmPage(frame, user, await factorsOf(deps.db, user.id), { ticket: form.ticket, problems: requestProblems(frame.t, outcome) });
      return reply.code(400).type(HTML).send(page);
    }
    return reply.redirect(`/support/users/${user.id}?done=factors-removed`, 303);
  });
}
