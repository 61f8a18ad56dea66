import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/config.ts";
import { html } from "../platform/html.ts";
import { page } from "./layout.ts";

/** An error a user can cause; its message is safe to show. */
export class HttpProblem extends Error {
  constructor(readonly statusCode: number, message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

const TITLES: Record<number, string> = {
  400: "Check what you entered",
  401: "Not signed in",
  403: "Not allowed",
  404: "Page not found",
  405: "Not allowed",
  409: "Already changed",
  413: "Too much data",
  414: "Address too long",
  415: "Not accepted",
  429: "Too many requests",
};

/**
 * The one place that maps errors to answers: a page (or JSON for API clients) with the status; the
 * detail of a 5xx is logged, never shown (ASVS 7.4.1).
 */
export function registerErrorPages(app: FastifyInstance, config: Readonly<Config>): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status = error.statusCode ?? 500;
    if (status < 400 || status > 599) status = 500;
    let text: string;
    if (error.code === "FST_CSRF_INVALID_TOKEN" || error.code === "FST_CSRF_MISSING_SECRET") {
      status = 403;
      text = "This form has expired or did not come from FAMOS. Go back, reload the page and try again.";
    } else if (status >= 500) {
      request.log.error({ err: error }, "request failed");
      text = "Something went wrong on our side. Nothing you entered was lost; please try again.";
    } else if (error instanceof HttpProblem) {
      text = error.message;
    } else if (status === 413) {
      text = "The form sent more data than FAMOS accepts.";
    } else if (status === 415) {
      text = "FAMOS accepts forms sent by its own pages only.";
    } else {
      text = "FAMOS could not read that request.";
    }
    const retry = error instanceof HttpProblem ? error.retryAfterSeconds : undefined;
    if (retry !== undefined) reply.header("retry-after", String(retry));
    return sendProblem(request, reply, config, status, text);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, config, 404, "There is no page at this address. Use the links below to find your way."),
  );
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, config: Readonly<Config>, status: number, text: string) {
  reply.code(status);
  if (request.headers.accept?.includes("application/json") && !request.headers.accept.includes("text/html")) {
    return reply.type("application/json").send({ error: text, statusCode: status });
  }
  const body = html`<h1>${TITLES[status] ?? "Something went wrong"}</h1>
<div class="message error" role="alert">${text}</div>
<p><a href="/">Go to FAMOS sign in</a></p>`;
  return reply.type("text/html; charset=utf-8").send(page({ title: TITLES[status] ?? "Error", body, config }));
}
