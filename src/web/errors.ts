import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/config.ts";
import { html } from "../platform/html.ts";
import type { MessageKey, Translator } from "../i18n/translator.ts";
import { passwordOnly } from "../session/session-steps.ts";
import { isDatabaseUnavailable } from "../store/database-unavailable.ts";
import { page } from "./layout.ts";
import { tr } from "./reader.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** A route that answers JSON alone (the bounce webhook): its refusals are JSON too, whatever Accept says. */
    json?: true;
  }
}

/**
 * An error a user can cause; its message (English) is safe to show. `words`: the same in the reader's
 * language where the catalogue's "said." lookup cannot make it (a field's label inside it, forms.ts).
 */
export class HttpProblem extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly retryAfterSeconds?: number,
    readonly words?: (t: Pick<Translator, "text">) => string,
  ) {
    super(message);
  }
}

/**
 * The request limit's 429 (SPEC "Request limits": a page saying when to try again), `ttlMs` before the
 * address's window ends: whole seconds, at least one, in the singular for one ("said.tooManyRequests…"
 * in the catalogues: the page translates the English text as it is).
 */
export function tooManyRequests(ttlMs: number): HttpProblem {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  const message =
    seconds === 1
      ? "Too many requests from your address. Please wait 1 second and try again."
      : `Too many requests from your address. Please wait ${seconds} seconds and try again.`;
  return new HttpProblem(429, message, seconds);
}

/**
 * Retry-After of the 503 for a database that is temporarily unavailable (RFC 9110 §10.2.3): a few
 * seconds, the order of FAMOS_DATABASE_TIMEOUT's default, in which another writer finishes, a stuck
 * statement is cut off or a failover completes; long enough that clients and load balancers that
 * honour it do not pile retries on a database that is struggling.
 */
const DATABASE_RETRY_AFTER_SECONDS = 5;

const TITLES: Record<number, MessageKey> = {
  400: "error.title400",
  401: "error.title401",
  403: "error.title403",
  404: "error.title404",
  405: "error.title405",
  409: "error.title409",
  413: "error.title413",
  414: "error.title414",
  415: "error.title415",
  429: "error.title429",
  503: "error.title503",
};

/**
 * The one place that maps errors to answers: a page (or JSON for API clients) with the status; the
 * detail of a 5xx is logged, never shown (ASVS 7.4.1). A database that is temporarily unavailable
 * (store/database-unavailable.ts) is a 503 with Retry-After, which load balancers and clients retry.
 */
export function registerErrorPages(app: FastifyInstance, config: Readonly<Config>, readSession: (request: FastifyRequest) => Promise<void> = async () => {}): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    let status = error.statusCode ?? 500;
    if (status < 400 || status > 599) status = 500;
    let text: string;
    let words: ((t: Pick<Translator, "text">) => string) | undefined;
    let retry = error instanceof HttpProblem ? error.retryAfterSeconds : undefined;
    if (error.code === "FST_CSRF_INVALID_TOKEN" || error.code === "FST_CSRF_MISSING_SECRET") {
      status = 403;
      text = "This form has expired or did not come from FAMOS. Go back, reload the page and try again.";
    } else if (isDatabaseUnavailable(error)) {
      // Not a fault of ours: no stack, and the driver's code and message only (never the statement's
      // parameters). The transaction that met it was rolled back or never begun: trying again is safe.
      status = 503;
      retry = DATABASE_RETRY_AFTER_SECONDS;
      request.log.warn({ code: error.code, reason: error.message }, "database unavailable");
      text = "FAMOS is busy at the moment and could not finish your request. Please try again in a moment.";
    } else if (status >= 500) {
      request.log.error({ err: error }, "request failed");
      text = "Something went wrong on our side. Nothing you entered was lost; please try again.";
    } else if (error instanceof HttpProblem) {
      text = error.message;
      words = error.words;
    } else if (status === 413) {
      text = "The form sent more data than FAMOS accepts.";
    } else if (status === 415) {
      text = "FAMOS accepts forms sent by its own pages only.";
    } else {
      text = "FAMOS could not read that request.";
    }
    if (retry !== undefined) reply.header("retry-after", String(retry));
    // A refusal before the route (CSRF, Origin, body) speaks a signed-in user's saved language too.
    // A fault of ours (5xx) reads nothing more, nor does the request limit's 429, which stays cheap
    // (signed-in sessions are not limited).
    if (status < 500 && status !== 429) await readSession(request);
    return sendProblem(request, reply, config, status, text, words);
  });

  app.setNotFoundHandler((request, reply) => {
    // A path FAMOS serves, asked with a method it does not take there (PUT /login): 405 with the
    // methods it does take (RFC 9110 15.5.6, which makes Allow a must); no handler runs either way.
    const allow = allowedMethods(app, request.url);
    if (allow.length > 0 && !allow.includes(request.method)) {
      reply.header("allow", allow.join(", "));
      return sendProblem(request, reply, config, 405, "This address does not take that kind of request. Use the links below to find your way.");
    }
    return sendProblem(request, reply, config, 404, "There is no page at this address. Use the links below to find your way.");
  });
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;

/** The methods a route of this app takes at this URL's path (Fastify's own router decides), none for an unknown path. */
function allowedMethods(app: FastifyInstance, url: string): string[] {
  const path = url.split("?", 1)[0]!;
  return METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  config: Readonly<Config>,
  status: number,
  text: string,
  words?: (t: Pick<Translator, "text">) => string,
) {
  reply.code(status);
  const accept = request.headers.accept;
  if (request.routeOptions.config?.json === true || (accept?.includes("application/json") && !accept.includes("text/html"))) {
    return reply.type("application/json").send({ error: text, statusCode: status });
  }
  // The reasons are said in English where they arise; the page says them in the reader's language.
  const t = tr({ config }, request);
  const title = TITLES[status];
  // Refused inside the console (a user since erased, an old notice link), a support user signed in
  // with both factors goes back to it, not to sign-in.
  const famos = request.famos;
  const inConsole = request.url.startsWith("/support") && famos?.session.stage === "full" && !passwordOnly(famos.session) && famos.user.role !== "user";
  const onward = inConsole ? html`<a href="/support">${t.text("error.backToConsole")}</a>` : html`<a href="/">${t.text("error.goToSignIn")}</a>`;
  const body = html`<h1>${t.text(title ?? "error.titleOther")}</h1>
<div class="message error" role="alert">${words ? words(t) : t.said(text)}</div>
<p>${onward}</p>`;
  // As its text: these pages are answered by apps without FAMOS's onSend hook too (tests, the bare
  // error handling), and they are rare, so the one-byte splicing (platform/html.ts) is not worth it here.
  return reply.type("text/html; charset=utf-8").send(page({ title: t.text(title ?? "error.title"), body, config, t }).value);
}
