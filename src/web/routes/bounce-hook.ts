import type { FastifyInstance } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { takeWebhookReports, WEBHOOK_BODY, webhookSecretMatches } from "../../bounce/webhook.ts";
import { HttpProblem } from "../errors.ts";

/**
 * `POST /hooks/bounce` for mail providers (FAMOS_BOUNCE_WEBHOOK_SECRET): JSON reports of bounced
 * messages, authenticated by the shared secret as a bearer token. Not a page: no session, no CSRF
 * token (the secret is the proof), and JSON accepted on this route alone; its refusals are JSON too
 * (`json: true`: a provider's client may send no Accept, or a browser's).
 */
export async function bounceHookRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const secret = deps.config.bounce.webhookSecret;
  if (!secret) return;
  await app.register(async (scope) => {
    scope.addContentTypeParser("application/json", { parseAs: "string", bodyLimit: 256 * 1024 }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new HttpProblem(400, "The body is not valid JSON."), undefined);
      }
    });
    scope.post("/hooks/bounce", { config: { csrf: false, json: true } }, async (request, reply) => {
      const auth = request.headers.authorization ?? "";
      // The scheme is case-insensitive (RFC 9110 11.1); the token is the secret as it is.
      const given = /^Bearer +(.+)$/i.exec(auth)?.[1] ?? "";
      if (!webhookSecretMatches(given, secret)) throw new HttpProblem(401, "The bounce webhook needs the shared secret as a bearer token.");
      const parsed = WEBHOOK_BODY.safeParse(request.body);
      if (!parsed.success) {
        throw new HttpProblem(400, `The body is not a bounce report: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`);
      }
      return reply.send(await takeWebhookReports(deps, parsed.data));
    });
  });
}
