import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { sendProblem } from "../errors.ts";
import { acceptReturnTo } from "../return-to.ts";
import { identityHeaders } from "../upstream-headers.ts";

/**
 * SPEC "Protected application", forward-authentication mode, for a proxy the operator runs:
 * GET /auth/nginx for nginx's auth_request (200 with the identity headers, or 401) and
 * GET /auth/traefik for Traefik's forwardAuth (200 with them, or 302 to sign in). Each answer costs the
 * session lookup the access rule "public" makes anyway, and that lookup also keeps the session alive
 * while the user works in the application (idle timeout, ASVS 3.3.2).
 */
export function forwardAuthRoutes(app: FastifyInstance, deps: Deps): void {
  // Both proxies ask with GET whatever the original method (nginx subrequests are GETs; Traefik's
  // forwardAuth sends X-Forwarded-Method), and without the original body.
  app.get("/auth/nginx", { config: { access: "public" }, helmet: false }, async (request, reply) => {
    if (grant(request, reply)) return reply.code(200).send();
    // nginx cannot percent-encode the original URL itself: `auth_request_set` takes this header and
    // the 401's error_page redirects to it (README, "nginx").
    reply.header("x-famos-login-url", signInUrl(deps, originalUrl(deps, request)));
    return reply.code(401).type("text/plain; charset=utf-8").send("Not signed in to FAMOS");
  });

  app.get("/auth/traefik", { config: { access: "public" } }, async (request, reply) => {
    if (grant(request, reply)) return reply.code(200).send();
    const original = originalUrl(deps, request);
    if (original === "foreign") {
      // Returning there after the code would be an open redirect (ASVS 5.1.5), and the session
      // cookie would not reach that host anyway.
      return sendProblem(request, reply, deps.config, 403, "FAMOS does not sign people in for this address. Ask your retail IT support for the right link.");
    }
    return reply.redirect(signInUrl(deps, original), 302);
  });
}

/** A full session: the identity headers for the proxy to copy onto the request it forwards. */
function grant(request: FastifyRequest, reply: FastifyReply): boolean {
  const famos = request.famos;
  if (!famos || famos.session.stage !== "full") return false;
  reply.headers(identityHeaders(famos.user));
  return true;
}

/**
 * The address the user first asked for, from X-Forwarded-Proto, -Host and -Uri (set by Traefik, and
 * by the README's nginx configuration). null when they are missing; "foreign" when the address is not
 * on a host FAMOS returns to (see allowedReturnHost).
 */
export function originalUrl(deps: Pick<Deps, "config">, request: FastifyRequest): string | null | "foreign" {
  const first = (name: string): string | undefined => {
    const value = request.headers[name];
    const text = Array.isArray(value) ? value[0] : value;
    return text?.split(",")[0]?.trim() || undefined;
  };
  const proto = first("x-forwarded-proto")?.toLowerCase();
  const host = first("x-forwarded-host");
  const uriHeader = request.headers["x-forwarded-uri"];
  const uri = (Array.isArray(uriHeader) ? uriHeader[0] : uriHeader) || "/";
  if ((proto !== "http" && proto !== "https") || !host || !uri.startsWith("/")) return null;
  return acceptReturnTo(deps, `${proto}://${host}${uri}`) ?? "foreign";
}

/** FAMOS's sign-in page, absolute (the browser is on the application's host), with the way back. */
function signInUrl(deps: Pick<Deps, "config">, returnTo: string | null | "foreign"): string {
  const url = new URL("/login", deps.config.publicUrl);
  if (returnTo !== null && returnTo !== "foreign") url.searchParams.set("returnTo", returnTo);
  return url.href;
}
