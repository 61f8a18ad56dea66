import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type { Deps } from "../../app/deps.ts";
import type { Section } from "../../config/sections.ts";
import { signedIn } from "../auth.ts";
import { sendProblem } from "../errors.ts";
import { checkOrigin } from "../origin.ts";
import { applicationUnavailablePage } from "../pages/protected-app-pages.ts";
import { applicationCookieTag, applicationCookies, identityHeaders, upstreamRequestHeaders, upstreamResponseHeaders } from "../upstream-headers.ts";
import { browserWebSocketClass } from "../proxied-websocket.ts";
import { relayedHeaders } from "../relayed-headers.ts";
import { relayMessages } from "../websocket-bounds.ts";
import { registerProxiedWebSockets } from "../websocket-sessions.ts";
import { portalFrame } from "./portal.ts";

/** Requests the application answered: their headers are the application's, not FAMOS's. */
const answeredByApp = new WeakSet<FastifyRequest>();

export function answeredByUpstream(request: FastifyRequest): boolean {
  return answeredByApp.has(request);
}

/**
 * SPEC "Protected application", reverse-proxy mode: with FAMOS_UPSTREAM_URL, each section path (and
 * everything under it) is forwarded to the application for fully signed-in sessions only — the
 * route's access rule "full" sends anyone else to sign in (and back after the code) or to their step.
 */
export async function protectedProxyRoutes(app: FastifyInstance, deps: Deps, webSocketRecheckMs?: number): Promise<void> {
  const upstream = deps.config.upstreamUrl;
  if (!upstream) return;
  const basePath = upstream.pathname.replace(/\/+$/, "");
  // Loaded only when an upstream is configured: the proxy and its HTTP client weigh ~20 MB of memory.
  const { default: fastifyHttpProxy } = await import("@fastify/http-proxy");
  const BrowserWebSocket = browserWebSocketClass(deps.logger);
  // Each WebSocket lives only as long as the session that opened it (ASVS 3.3.1).
  const webSockets = registerProxiedWebSockets(app, deps, webSocketRecheckMs);
  const maxMessage = deps.config.webSocketMaxMessageBytes;

  await app.register(async (scope) => {
    // Bodies reach the application byte for byte (forms, JSON, uploads): the global form parser is
    // dropped here and @fastify/http-proxy streams every content type through unparsed.
    scope.removeAllContentTypeParsers();
    // FAMOS's own answers on these paths (sign-in redirects, the 502 page) carry FAMOS's security
    // headers; the application's answers carry only the application's (helmet is skipped per route).
    scope.addHook("onSend", async (request, reply, payload) => {
      if (!answeredByApp.has(request)) reply.helmet();
      return payload;
    });

    for (const section of deps.config.sections) {
      await scope.register(fastifyHttpProxy, {
        upstream: upstream.origin,
        prefix: section.path,
        // The application serves the sections at the same paths (under the upstream URL's own path).
        rewritePrefix: `${basePath}${section.path}`,
        // Its rewrite of Location read a string only; relayedHeaders moves each Location instead.
        internalRewriteLocationHeader: false,
        websocket: true,
        disableRequestLogging: true,
        // The application's forms carry its own tokens, not FAMOS's (the Origin check still applies).
        config: { access: "full", csrf: false, helmet: { skipRoute: true }, sandboxedSection: true },
        preHandler: async (request) => {
          // Cross-site WebSocket hijacking: a handshake is a GET, so the form check never sees it.
          if (request.headers.upgrade === undefined) return;
          checkOrigin(request, deps.config);
          webSockets.allow(request);
        },
        replyOptions: {
          rewriteRequestHeaders: (request, headers) => forwardedHeaders(deps, request as FastifyRequest, headers as IncomingHttpHeaders),
          rewriteHeaders: (headers, request) => {
            answeredByApp.add(request as FastifyRequest);
            const relayed = relayedHeaders(headers as IncomingHttpHeaders, basePath);
            return upstreamResponseHeaders(relayed, deps.config.upstreamSandbox, cookieTag(deps, request as FastifyRequest));
          },
          // An upstream 503 goes to the user as the application sent it, not retried here.
          retryDelay: () => null,
          onError: (reply, { error }) => void applicationUnavailable(deps, reply as FastifyReply, section, error),
        },
        // Every close reason the proxy gives the browser's side is cut to fit a close frame (see there).
        // maxPayload: ws buffers a message whole before it is forwarded; its default is 100 MiB.
        wsServerOptions: { WebSocket: BrowserWebSocket, maxPayload: maxMessage } as object,
        wsHooks: {
          onConnect: (_context: unknown, browser: WebSocket & { upgradeSocket?: object }, application: WebSocket) => {
            const loginId = webSockets.connected(browser.upgradeSocket, browser, application);
            relayMessages(browser, application, (from) =>
              deps.logger.warn({ loginId, from, maxMessage }, "proxied WebSocket closed: a message over FAMOS_WEBSOCKET_MAX_MESSAGE"),
            );
          },
        } as object,
        wsClientOptions: {
          maxPayload: maxMessage,
          // An application that takes the connection and never answers the upgrade: ws gives up after
          // this (an 'error', which the proxy answers by closing the browser's side with 1011 and
          // "Opening handshake has timed out"). FAMOS_REQUEST_TIMEOUT is how long FAMOS waits for a
          // request to arrive whole; the application's answer to one is the same kind of wait.
          handshakeTimeout: deps.config.timeouts.requestMs,
          rewriteRequestHeaders: (_headers: IncomingHttpHeaders, request: FastifyRequest) => webSocketHeaders(deps, request),
        } as object,
      });
    }
  });
}

/** The signed-in user's tag on the application's cookie names (see applicationCookieTag). */
function cookieTag(deps: Deps, request: FastifyRequest): string {
  return applicationCookieTag(deps.keys.appCookie, signedIn(request).user.id);
}

/**
 * What the application receives: the client's headers minus forged identity and forwarding headers,
 * FAMOS's cookies and other users', then FAMOS's own account of where the request came from. The host
 * is FAMOS_PUBLIC_URL's when set (FAMOS's cookies, Origin check and links are bound to it), so a
 * request sent with another Host cannot have the application write links to that host.
 */
function forwardedHeaders(deps: Deps, request: FastifyRequest, headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const result = upstreamRequestHeaders(headers, signedIn(request).user, cookieTag(deps, request));
  // Like nginx's $proxy_add_x_forwarded_for, the peer FAMOS saw appended to what came before it, but
  // only from a peer FAMOS_TRUST_PROXY trusts (request.ips holds more than the peer only then): a
  // client's own X-Forwarded-For is its word, and an application reading the first entry would take it.
  const before = (request.ips?.length ?? 0) > 1 ? headers["x-forwarded-for"] : undefined;
  const peer = request.socket.remoteAddress ?? request.ip;
  result["x-forwarded-for"] = before ? `${before}, ${peer}` : peer;
  result["x-forwarded-proto"] = request.protocol;
  result["x-forwarded-host"] = deps.config.publicUrlExplicit ? deps.config.publicUrl.host : request.host;
  return result;
}

/** The WebSocket handshake to the application: identity, the user's own application cookies, its Origin. */
function webSocketHeaders(deps: Deps, request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = { ...identityHeaders(signedIn(request).user) };
  const cookie = applicationCookies(request.headers.cookie, cookieTag(deps, request));
  if (cookie !== undefined) headers.cookie = cookie;
  for (const name of ["origin", "user-agent"] as const) {
    const value = request.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  return headers;
}

/** Connection refused, reset or timed out: a page saying so, never the error's detail (ASVS 7.4.1). */
async function applicationUnavailable(deps: Deps, reply: FastifyReply, section: Section, error: Error): Promise<void> {
  const request = reply.request;
  request.log.warn({ err: error, section: section.path }, "protected application unavailable");
  const timedOut = (error as { statusCode?: number }).statusCode === 504;
  const status = timedOut ? 504 : 502;
  const accept = request.headers.accept ?? "";
  // A body the application never read is still on the connection: close it after this answer, as
  // reply-from does for upstream answers, rather than leave the socket half-read until a timeout.
  if (!request.raw.complete) reply.header("connection", "close");
  try {
    if (accept.includes("application/json") && !accept.includes("text/html")) {
      await sendProblem(request, reply, deps.config, status, `The ${section.label} section is not available at the moment.`);
      return;
    }
    const page = applicationUnavailablePage(await portalFrame(deps, request, reply), section, timedOut);
    await reply.code(status).type("text/html; charset=utf-8").send(page);
  } catch (failure) {
    request.log.error({ err: failure }, "could not render the unavailable page");
    if (!reply.sent) await reply.code(status).type("text/plain; charset=utf-8").send("The application is not available at the moment.");
  }
}
