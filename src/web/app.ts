import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import type { Deps } from "../app/deps.ts";
import type { Store } from "../store/database.ts";
import { registerAfterReply } from "./after-reply.ts";
import { readSessionForErrorPage, registerSessionLoading, signInForStaleForm } from "./auth.ts";
import { registerConsoleWriteGuard } from "./console-guard.ts";
import { registerSecurityHeaders } from "./security-headers.ts";
import { cookieSigner } from "./cookie-signer.ts";
import { clientErrorHandler, connectAnswer } from "./client-errors.ts";
import { registerCsrf, verifyCsrf } from "./csrf.ts";
import { registerErrorPages, sendProblem, tooManyRequests } from "./errors.ts";
import { withFormAnswerScript } from "./form-answer.ts";
import { pageBytes, SafeHtml } from "../platform/html.ts";
import { registerForwardedWarning } from "./forwarded-warning.ts";
import { registerHsts } from "./https.ts";
import { registerInputGuard } from "./input-guard.ts";
import { originFormTarget } from "./request-target.ts";
import { registerLocale } from "./locale.ts";
import { checkOrigin } from "./origin.ts";
import { redisOrLocalStore } from "./rate-limit-store.ts";
import { formActionSources } from "./return-to.ts";
import { collectRoutes } from "./route-list.ts";
import { bounceHookRoutes } from "./routes/bounce-hook.ts";
import { devMailboxRoutes } from "./routes/dev-mailbox.ts";
import { forwardAuthRoutes } from "./routes/forward-auth.ts";
import { healthRoutes } from "./routes/health.ts";
import { portalRoutes } from "./routes/portal.ts";
import { passkeyLibraryRoute } from "./routes/passkeys.ts";
import { profileRoutes } from "./routes/profile.ts";
import { answeredByUpstream, protectedProxyRoutes } from "./routes/protected-proxy.ts";
import { rolloutRoutes } from "./routes/rollout.ts";
import { signinRoutes } from "./routes/signin.ts";
import { strongFactorRoutes } from "./routes/strong-factors.ts";
import { choosePasswordRoutes } from "./routes/choose-password.ts";
import { passwordResetRoutes } from "./routes/password-reset.ts";
import { supportRoutes } from "./routes/support.ts";
import { closesConnections, trackConnections } from "./drain.ts";

export interface AppOptions {
  deps: Deps;
  store: Store;
  /** Shares request limits across instances. */
  redis?: Redis | null;
  /** Pino logger options, or false to stay silent (tests). */
  logger?: boolean | object;
  /** A logger to use as it is (serve shares one with the mail sender); wins over `logger`. */
  loggerInstance?: FastifyBaseLogger;
  /** How often open proxied WebSockets' sessions are read again (WEBSOCKET_RECHECK_MS); tests set one no test reaches and ask for each recheck. */
  webSocketRecheckMs?: number;
}

/** Builds the HTTP application: the web layer only translates HTTP to calls on the domain modules. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { deps, store } = options;
  const { config } = deps;
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.logger === undefined ? false : options.logger }),
    // A hop count is accepted at run time though the type omits it; Fastify 5 then trusts no proxy (doctor warns), and 0 is off.
    trustProxy: config.trustProxy as boolean | string[],
    bodyLimit: 64 * 1024,
    // A request id in every log line; generated here rather than trusted from the client.
    genReqId: requestIds(deps),
    // One log line per request, written when it is answered, rather than Fastify's two: see OneLineLog.
    logController: new OneLineLog(),
    return503OnClosing: true,
    // A request Node cannot read: Fastify's answers, but a page for one whose headers are too large
    // (a browser whose cookies outgrew Node's limit; see client-errors.ts).
    clientErrorHandler: clientErrorHandler(config),
    // Issue 19.6: a request must arrive whole within FAMOS_REQUEST_TIMEOUT (a body trickled a byte at
    // a time is cut with 408), an idle connection closes after FAMOS_CONNECTION_TIMEOUT, and a
    // kept-alive one after FAMOS_KEEP_ALIVE_TIMEOUT. Node checks the request deadline every
    // connectionsCheckingInterval (30 s by default): a quarter of the deadline keeps it near.
    requestTimeout: config.timeouts.requestMs,
    connectionTimeout: config.timeouts.connectionMs,
    keepAliveTimeout: config.timeouts.keepAliveMs,
    http: {
      // The Host rule is FAMOS's (input-guard.ts), so that its refusal is a page that says so.
      requireHostHeader: false,
      requestTimeout: config.timeouts.requestMs,
      headersTimeout: Math.min(config.timeouts.requestMs, 60_000),
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.timeouts.requestMs / 4))),
    },
    routerOptions: { maxParamLength: 200 },
    // Every request's url a path and query, even one whose target came in absolute-form (request-target.ts).
    rewriteUrl: originFormTarget,
    // A malformed address (a bad percent-escape, an over-long path part) never reaches a route: the
    // router's own status, answered with the same page as every other error.
    frameworkErrors: (error, request, reply) => {
      const status = (error as { statusCode?: number }).statusCode === 414 ? 414 : 400;
      const text = status === 414 ? "That address is too long." : "That address is not a valid FAMOS address. Use the links below to find your way.";
      // In a signed-in reader's saved language, as every other refusal (registerErrorPages): no hook
      // has run, so the cookies are read here. A console address with a bad escape in its path
      // (/support/users/%E0) spoke English to a German reader, and German with the same in its query.
      // Never a rejection left unhandled (it would end the process): should the page itself fail, the
      // same words as plain text.
      const plain = () => {
        const answer = reply as FastifyReply;
        if (!answer.sent) void answer.code(status).type("text/plain; charset=utf-8").send(text);
      };
      try {
        request.cookies ??= app.parseCookie(request.headers.cookie ?? "");
      } catch {
        request.cookies = {};
      }
      readSessionForErrorPage(deps, request)
        .then(() => sendProblem(request, reply, config, status, text))
        .catch(plain);
    },
  });
  // RFC 9110 §10.1.1: a server MAY refuse an Expect other than 100-continue with 417, and Node did so
  // itself, with a bare answer and no word. FAMOS answers such a request as if it had none, with its
  // own pages and refusals.
  app.server.on("checkExpectation", (request, response) => app.routing(request, response));
  // A CONNECT (authority-form, for a proxy) never reaches the router: Node closed the connection without
  // a word. FAMOS is no proxy: the page for a request it cannot read.
  app.server.on("connect", connectAnswer(config));
  // Each connection's last request, for the drain of a graceful stop (drain.ts).
  trackConnections(app.server);
  collectRoutes(app);
  registerAfterReply(app, deps.metrics);

  await app.register(fastifyCookie, { secret: cookieSigner(deps.keys.cookie) });
  // FAMOS's own pages send url-encoded forms only: without Fastify's default JSON and text parsers
  // any other body is a 415 before a handler runs (the protected sections parse their own bodies).
  app.removeContentTypeParser(["application/json", "text/plain"]);
  await app.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
  await registerSecurityHeaders(app, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        // 'self' plus the hosts a sign-in may return to (see formActionSources).
        "form-action": formActionSources(config),
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        ...(config.https ? { "upgrade-insecure-requests": [] } : {}),
      },
    },
    // HSTS is decided per request (a trusted proxy may say HTTPS): see registerHsts.
    hsts: false,
    frameguard: { action: "deny" },
    referrerPolicy: { policy: "same-origin" },
    crossOriginEmbedderPolicy: false,
  });
  registerCsrf(app, config, deps.random);
  registerInputGuard(app);
  registerHsts(app, config);
  registerForwardedWarning(app, deps);
  await app.register(fastifyRateLimit, {
    global: false,
    // The plugin's own key: the address, an IPv6 one by its /64 (one subscriber's usual share).
    ipv6Subnet: 64,
    // Shared by every instance through Redis; while Redis does not answer, counted on this instance.
    ...(options.redis ? { store: redisOrLocalStore(options.redis, "famos-rate:", deps.logger, deps.clock, (yes) => deps.metrics.requestLimitsShared.set(yes ? 1 : 0)) } : {}),
    errorResponseBuilder: (_request, context) => tooManyRequests(context.ttl),
  });
  await app.register(fastifyStatic, {
    root: fileURLToPath(new URL("./public/", import.meta.url)),
    prefix: "/static/",
    maxAge: "1h",
    index: false,
    wildcard: false,
  });

  passkeyLibraryRoute(app);
  registerErrorPages(app, config, (request) => readSessionForErrorPage(deps, request));
  // A graceful stop behind a proxy that keeps connections alive (nginx's keepalive): once the drain
  // closed the listening socket (drain.ts) or closing starts, every answer, those to requests already
  // in flight included, closes its connection. Otherwise one busy then stayed open after its answer, so the instance waited for it
  // up to shutdown's 25 s bound, and the proxy's next request on it got Fastify's bare 503 (a JSON line
  // in the browser; nginx never sends a form twice).
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onSend", (request, reply, payload, done) => {
    if (closing || closesConnections(app.server)) reply.header("connection", "close");
    // Pages carry codes, addresses and CSRF tokens: never cache them (ASVS 8.2.1). The protected
    // application's answers keep the caching it chose.
    if (answeredByUpstream(request)) return done(null, payload);
    if (!reply.getHeader("cache-control")) reply.header("cache-control", "no-store");
    // A page is sent as SafeHtml, carrying its kept parts (the Profile's time zones, every character
    // past U+00FF): they go in as bytes, last, from the page's own list (platform/html.ts).
    const own = payload instanceof SafeHtml ? payload.parts : undefined;
    const answer = withFormAnswerScript(request, reply, payload instanceof SafeHtml ? payload.marked : payload);
    done(null, typeof answer === "string" ? pageBytes(answer, own) : answer);
  });
  app.addHook("onResponse", (request, reply, done) => {
    const elapsed = reply.elapsedTime;
    deps.metrics.requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? "unknown", status: String(reply.statusCode) },
      elapsed / 1000,
    );
    done();
  });
  // Every state-changing request: the Origin must be ours, then the CSRF token must match (ASVS 4.2.2).
  // A token that does not match on a request with no session cookie (a tab left open when another
  // signed out) goes to sign-in instead: it can do nothing as anyone (signInForStaleForm).
  app.addHook("preHandler", async (request, reply) => {
    // An unknown route changes nothing, so it is answered 404 rather than refused as a forged form.
    if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS" || request.is404) return;
    checkOrigin(request, config);
    if (request.routeOptions.config.csrf === false) return;
    try {
      verifyCsrf(request, config);
    } catch (error) {
      const signIn = await signInForStaleForm(deps, request);
      if (signIn === null) throw error;
      return reply.redirect(signIn, 303);
    }
  });
  registerSessionLoading(app, deps);
  registerLocale(app, deps);
  registerConsoleWriteGuard(app, deps);

  signinRoutes(app, deps);
  portalRoutes(app, deps);
  profileRoutes(app, deps);
  supportRoutes(app, deps);
  choosePasswordRoutes(app, deps);
  strongFactorRoutes(app, deps);
  passwordResetRoutes(app, deps);
  rolloutRoutes(app, deps);
  healthRoutes(app, deps, store);
  forwardAuthRoutes(app, deps);
  await protectedProxyRoutes(app, deps, options.webSocketRecheckMs);
  await bounceHookRoutes(app, deps);
  if (!config.production && config.smtpUrl === null) devMailboxRoutes(app, deps);
  return app;
}

/**
 * Request ids for the logs: a random prefix per process and a counter, 16 hex digits. Unique across
 * instances without a call into the random source on every request.
 */
function requestIds(deps: Deps): () => string {
  const prefix = deps.random.bytes(4).toString("hex");
  let next = 0;
  return () => prefix + (next = (next + 1) % 0x1_0000_0000).toString(16).padStart(8, "0");
}

/**
 * Fastify logs every request twice, "incoming request" (the request) and "request completed" (the
 * answer); issue 17: one line each is half the logging of a sign-in. The one line, written when the
 * request is answered, has both: method, address, host and client, status, time taken. At
 * FAMOS_LOG_LEVEL=debug the arrival is logged too, so a request still in flight shows. Fastify's other
 * lines (errors, a stream cut short, a refused write) are its own, unchanged.
 */
class OneLineLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: loggedRequest(request) }, "incoming request");
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const req = loggedRequest(request);
    if (error) reply.log.error({ req, res: reply, err: error, responseTime: reply.elapsedTime }, "request errored");
    else reply.log.info({ req, res: reply, responseTime: reply.elapsedTime }, "request completed");
  }
}

/**
 * A request as its log line shows it, in the fields Fastify's `req` serializer reads (method, url,
 * host, ip as remoteAddress, socket's remotePort). With FAMOS_TRUST_PROXY, Fastify's `request.ip` and
 * `request.host` read the connection's address from `request.raw.socket`, which Node has already set
 * to null when some requests complete (a chunked upload with Connection: close through the proxy):
 * the TypeError, thrown in the log call outside any request's error handling, ended `famos serve`.
 * So both are read only while the connection is attached; otherwise the address is not logged and
 * the host is the Host header.
 */
function loggedRequest(request: FastifyRequest): { method: string; url: string; host: string | undefined; ip: string | undefined; socket: { remotePort?: number } | undefined } {
  const socket = request.raw.socket as typeof request.raw.socket | null;
  return {
    method: request.method,
    url: request.url,
    host: socket ? request.host : request.headers.host,
    ip: socket ? request.ip : undefined,
    socket: socket ?? undefined,
  };
}
