import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ConnectionError, FastifyBaseLogger, FastifyInstance } from "fastify";
import type { Config } from "../config/config.ts";
import { negotiateLocale } from "../i18n/locales.ts";
import { translator } from "../i18n/translator.ts";
import { html } from "../platform/html.ts";
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
 * arrive in time and a 400 for one that breaks HTTP/1.1 (smuggling attempts among them) as Fastify
 * answers them, and for one whose headers are over Node's limit (431) a FAMOS page (tooLargePage).
 */
export function clientErrorHandler(config: Readonly<Config>): (this: FastifyInstance, error: ConnectionError, socket: Socket) => void {
  return function answer(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
    // A connection reset: nothing to answer on.
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    if (error.code === "HPE_HEADER_OVERFLOW") {
      // Node gives the bytes of the chunk its parser failed on (Fastify's type says otherwise).
      const raw = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString("latin1") : "";
      if (socket.writable) socket.end(tooLargeAnswer(config, raw, this.log));
      else socket.destroy();
      return;
    }
    const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const body = JSON.stringify({ error: STATUS_CODES[status], message: status === 408 ? "Client Timeout" : "Client Error", statusCode: status });
    if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\n\r\n${body}`);
    socket.destroy(error);
  };
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
  const lines = raw.split(/\r?\n/);
  const field = (name: string) => lines.filter((line) => line.slice(0, name.length + 1).toLowerCase() === `${name}:`).map((line) => line.slice(name.length + 1).trim());
  const cookies = field("cookie");
  const cookieBytes = cookies.reduce((sum, value) => sum + value.length, 0);
  const expiries = cookieBytes >= COOKIES_OVER_LIMIT_BYTES ? applicationCookieExpiries(cookies) : [];
  log.warn({ cookieBytes, expired: expiries.length }, "request refused: its headers are over Node's limit");
  const t = translator(negotiateLocale(field("accept-language")[0]) ?? config.defaultLocale, config.timezone);
  const body = html`<h1>${t.text("error.title431")}</h1>
<div class="message error" role="alert">${t.text("error.headersTooLarge")}</div>
${expiries.length > 0 ? html`<p>${t.text("error.headersCookiesExpired")}</p>` : ""}
<p>${t.text("error.headersClearCookies")}</p>
<p><a href="/">${t.text("error.goToSignIn")}</a></p>`;
  const content = page({ title: t.text("error.title431"), body, config, t });
  const head = [
    "HTTP/1.1 431 Request Header Fields Too Large",
    "Content-Type: text/html; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(content)}`,
    "Cache-Control: no-store",
    "Content-Security-Policy: default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options: nosniff",
    "X-Frame-Options: DENY",
    "Referrer-Policy: same-origin",
    ...expiries.map((line) => `Set-Cookie: ${line}`),
    "Connection: close",
  ];
  return `${head.join("\r\n")}\r\n\r\n${content}`;
}
