import type { FastifyInstance } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { chooseNewPassword } from "../../account/choose-password.ts";
import { answerSignedOut, requestContext, setSessionCookie, signedIn } from "../auth.ts";
import { field, formSchema, parseForm } from "../forms.ts";
import { choosePasswordPage } from "../pages/account-pages.ts";
import { rateLimited } from "../rate-limit.ts";
import { tr } from "../reader.ts";

const HTML = "text/html; charset=utf-8";
const CHOOSE_FORM = formSchema({ newPassword: field(), confirmNewPassword: field() });

/** "Choose a new password": the one page a session that signed in with a temporary password reaches. */
export function choosePasswordRoutes(app: FastifyInstance, deps: Deps): void {
  app.get("/choose-password", { config: { access: "password" } }, async (request, reply) =>
    reply.type(HTML).send(choosePasswordPage(tr(deps, request), deps.config, { csrf: reply.generateCsrf() })),
  );

  app.post("/choose-password", { config: { access: "password", ...rateLimited(deps) } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(CHOOSE_FORM, request.body);
    const outcome = await chooseNewPassword(deps, user, session, form, requestContext(deps, request));
    if (outcome.kind === "changed") {
      setSessionCookie(deps, reply, outcome);
      return reply.redirect("/", 303);
    }
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    return reply.code(400).type(HTML).send(choosePasswordPage(tr(deps, request), deps.config, { csrf: reply.generateCsrf(), error: tr(deps, request).said(outcome.message) }));
  });
}
