import { maxHeaderSize, STATUS_CODES, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ConnectionError, FastifyBaseLogger, FastifyInstance } from "fastify";
import type { Config } from "../config/config.ts";
import { negotiateLocale } from "../i18n/locales.ts";
import { translator, type Translator } from "../i18n/translator.ts";
import { html, type SafeHtml } from "../platform/html.ts";
import { page } from "./layout.ts";
import { applicationCookieExpiries } from "./upstream-headers.ts";

/**
 * The cookies must be at least this much of a refused request for FAMOS to expire any: half of Node's
 * limit (16 KiB), so the cookies are what made it too large. A request made too large by its address
 * (a link on another site, which the browser follows with the user's cookies) expires nothing.
 */
const COOKIES_OVER_LIMIT_BYTES = Math.floor(maxHeaderSize / 2);

/**
 * Node's answers to requests it cannot read (Fastify's clientErrorHandler): a 408 for one that did not
 * arrive in time, a 400 for one that breaks HTTP/1.1 (smuggling attempts among them) and a 431 for one
 * whose headers are over Node's limit (tooLargeAnswer). Each is a FAMOS page in the language the
 * request asked for, like every other error page, or JSON for a client that asks for JSON only.
 */
export function clientErrorHandler(config: Readonly<Config>): (this: FastifyInstance, error: ConnectionError, socket: Socket) => void {
  return function answer(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
    // A connection reset: nothing to answer on.
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    // Node gives the bytes of the chunk its parser failed on (Fastify's type says otherwise); none for a timeout.
    const raw = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString("latin1") : "";
    if (error.code === "HPE_HEADER_OVERFLOW") {
      if (socket.writable) socket.end(tooLargeAnswer(config, raw, this.log));
      else socket.destroy();
      return;
    }
    const timedOut = error.code === "ERR_HTTP_REQUEST_TIMEOUT";
    const request = timedOut ? headersOnTheWay(socket) : readHeaders(raw);
    const t = readerOf(config, request);
    const answer = timedOut
      ? errorAnswer(request, 408, t.text("error.title408"), t.text("error.requestTimeout"), html`<p><a href="/">${t.text("error.goToSignIn")}</a></p>`, config, t)
      : errorAnswer(request, 400, t.text("error.title400"), t.text("said.unreadable"), html`<p><a href="/">${t.text("error.goToSignIn")}</a></p>`, config, t);
    if (socket.writable) socket.write(answer);
    socket.destroy(error);
  };
}

/** The answer to a CONNECT request (Node's `connect` event): FAMOS is no proxy, so the 400 page above. */
export function connectAnswer(config: Readonly<Config>): (request: IncomingMessage, socket: Duplex) => void {
  return (request, socket) => {
    const field = (name: string): string[] => {
      const value = request.headers[name];
      return value === undefined ? [] : Array.isArray(value) ? value : [value];
    };
    const t = readerOf(config, field);
    socket.on("error", () => socket.destroy());
    if (socket.writable) socket.end(errorAnswer(field, 400, t.text("error.title400"), t.text("said.unreadable"), html`<p><a href="/">${t.text("error.goToSignIn")}</a></p>`, config, t));
    else socket.destroy();
  };
}

/** The header fields of the raw bytes Node read, by lower-case name. */
function readHeaders(raw: string): (name: string) => string[] {
  const lines = raw.split(/\r?\n/);
  return (name) => lines.filter((line) => line.slice(0, name.length + 1).toLowerCase() === `${name}:`).map((line) => line.slice(name.length + 1).trim());
}

/**
 * A request that timed out had its headers read already (its body is what did not come): Node gives
 * the error no bytes, but the request it was reading is still on the socket's parser (not a public
 * API: when it is not there, the page is in FAMOS_DEFAULT_LOCALE).
 */
function headersOnTheWay(socket: Socket): (name: string) => string[] {
  const incoming = (socket as Socket & { parser?: { incoming?: { headers?: Record<string, string | string[] | undefined> } } }).parser?.incoming;
  return (name) => {
    const value = incoming?.headers?.[name];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  };
}

function readerOf(config: Readonly<Config>, field: (name: string) => string[]): Translator {
  return translator(negotiateLocale(field("accept-language")[0]) ?? config.defaultLocale, config.timezone);
}

/**
 * A whole HTTP answer on the socket, written before Fastify has a request: the error page (or JSON
 * for a client that asks for JSON only, as sendProblem answers), with FAMOS's headers for pages.
 */
function errorAnswer(
  field: (name: string) => string[],
  status: number,
  title: string,
  text: string,
  after: SafeHtml,
  config: Readonly<Config>,
  t: Translator,
  extraHeaders: string[] = [],
): string {
  const accept = field("accept")[0] ?? "";
  const json = accept.includes("application/json") && !accept.includes("text/html");
  const body = json
    ? JSON.stringify({ error: text, statusCode: status })
    : page({ title, body: html`<h1>${title}</h1>\n<div class="message error" role="alert">${text}</div>\n${after}`, config, t }).value;
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    json ? "Content-Type: application/json; charset=utf-8" : "Content-Type: text/html; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Cache-Control: no-store",
    "Content-Security-Policy: default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options: nosniff",
    "X-Frame-Options: DENY",
    "Referrer-Policy: same-origin",
    ...extraHeaders,
    "Connection: close",
  ];
  return `${head.join("\r\n")}\r\n\r\n${body}`;
}

/**
 * The 431 for a request whose headers Node refused as too large. Before, a JSON text, and the browser
 * stuck: every request it sends to this host carries the same cookies, FAMOS's pages and sign-in too.
 * The application behind FAMOS is what sets large cookies, and each of them is tagged (see
 * applicationCookieExpiries), so when the Cookie lines Node read are what made the request too large,
 * the answer expires the tagged application cookies among them, every user's (whose request it is,
 * FAMOS cannot know without reading it), and the browser's next request gets through, its FAMOS
 * session still signed in. FAMOS's own cookies stay: they are small, and the device cookie keeps the
 * browser out of others' lockouts. The page says what happened, and to clear the site's cookies by
 * hand if it comes back (cookies FAMOS did not see: another Path or Domain, a Cookie line Node read in
 * an earlier chunk than the one it failed on).
 */
function tooLargeAnswer(config: Readonly<Config>, raw: string, log: FastifyBaseLogger): string {
  const field = readHeaders(raw);
  const cookies = field("cookie");
  const cookieBytes = cookies.reduce((sum, value) => sum + value.length, 0);
  const expiries = cookieBytes >= COOKIES_OVER_LIMIT_BYTES ? applicationCookieExpiries(cookies) : [];
  log.warn({ cookieBytes, expired: expiries.length }, "request refused: its headers are over Node's limit");
  const t = readerOf(config, field);
  // Always the page: the browser stuck behind its own cookies is the one to tell.
  const after = html`${expiries.length > 0 ? html`<p>${t.text("error.headersCookiesExpired")}</p>` : ""}
<p>${t.text("error.headersClearCookies")}</p>
<p><a href="/">${t.text("error.goToSignIn")}</a></p>`;
  const htmlOnly = (name: string) => (name === "accept" ? [] : field(name));
  return errorAnswer(htmlOnly, 431, t.text("error.title431"), t.text("error.headersTooLarge"), after, config, t, expiries.map((line) => `Set-Cookie: ${line}`));
}
