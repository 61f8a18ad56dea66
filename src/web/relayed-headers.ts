import type { IncomingHttpHeaders } from "node:http";

/**
 * RFC 9110 §7.6.1: the fields of the connection between the application and FAMOS, which a proxy
 * must not forward ("Proxy-Connection" is the pre-standard spelling of Connection). Trailer announces
 * trailer fields the proxy does not forward either (RFC 9110 §6.6.2), and Node refuses to send it
 * with a body of known length: it threw ERR_HTTP_TRAILER_INVALID while streaming the body, outside
 * any request's error handling, and ended `famos serve`.
 */
const HOP_BY_HOP = ["connection", "proxy-connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"];

/**
 * The application's answer headers before anything else reads them (reverse-proxy mode): the
 * connection's own fields dropped, and the fields named in its Connection header; the Location of a
 * redirect moved from the application's path to FAMOS's (the upstream URL's path, `basePath`, taken
 * off the front). undici, the proxy's HTTP client, gives a field the application sent twice as an
 * array: every value is read in both forms. @fastify/http-proxy's own Location rewrite read it as a
 * string only (location.replace threw on two Location fields, ending the process); it is turned off
 * where this is used.
 */
export function relayedHeaders(headers: IncomingHttpHeaders, basePath: string): IncomingHttpHeaders {
  const result = withoutConnectionFields(headers);
  const location = headers.location as string | string[] | undefined;
  if (location !== undefined && basePath !== "") {
    const moved = [location].flat().map((value) => (value === basePath || value.startsWith(`${basePath}/`) ? value.slice(basePath.length) || "/" : value));
    result.location = (moved.length === 1 ? moved[0] : moved) as string;
  }
  return result;
}

/**
 * The fields of a message without the connection's own (HOP_BY_HOP, and those its Connection field
 * names), both ways through the proxy: the application's answer (relayedHeaders) and the browser's
 * request (upstreamRequestHeaders). A request's Keep-Alive or a stray Upgrade made undici, the proxy's
 * HTTP client, refuse the request, answered 502 and logged as the application being unavailable.
 */
export function withoutConnectionFields(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = [headers.connection ?? []]
    .flat()
    .flatMap((value) => value.split(","))
    .map((name) => name.trim().toLowerCase());
  const result: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.includes(name) && !named.includes(name)) result[name] = value;
  }
  return result;
}
