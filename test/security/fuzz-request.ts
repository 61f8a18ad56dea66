import type { RouteEntry } from "../../src/web/route-list.ts";
import { percentEncode, type FuzzCase } from "./fuzz-cases.ts";
import type { WireRequest } from "./fuzz-wire.ts";

/** What a fuzzed request is built from besides its case: the client's cookies and token, the ids that exist. */
export interface RequestContext {
  port: number;
  cookies: ReadonlyMap<string, string>;
  csrf: string | null;
  /** A real id for `:param` ("target"): a user the console may act on. */
  targetId: string;
  /** The bounce webhook's secret, sent as its bearer token now and then. */
  webhookSecret: string;
  /** The fields of the route's forms, as read from the pages seen so far (none yet: the case's own). */
  routeFields: readonly string[];
}

function formBody(fields: Array<[string, string]>): string {
  return fields.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join("&");
}

/** The route's address with its parameters filled as the case says, or an address no route has. */
export function target(c: FuzzCase, route: RouteEntry | null, ctx: RequestContext): string {
  const param = c.param === "target" ? ctx.targetId : c.param;
  const path = route === null ? `/no/such/${param}` : route.url.replace(/:[A-Za-z]+/g, () => param).replace(/\*$/, param);
  return c.query === null ? path : `${path}?${c.query}`;
}

export function cookieHeader(c: FuzzCase, ctx: RequestContext): string | null {
  const real = [...ctx.cookies].map(([k, v]) => `${k}=${v}`);
  const session = [...ctx.cookies.keys()].find((k) => k.endsWith("famos_session")) ?? "famos_session";
  switch (c.cookies) {
    case "none":
      return null;
    case "session-twice-junk-first":
      return [`${session}=junk.value`, ...real].join("; ");
    case "session-twice-junk-last":
      return [...real, `${session}=${"A".repeat(43)}`].join("; ");
    case "oversized":
      return [...real, `pad=${"A".repeat(12_000)}`].join("; ");
    case "broken":
      return [...[...ctx.cookies].map(([k, v]) => `${k}=${v.slice(0, Math.floor(v.length / 2))}%`), ";;;=;", "=x", "famos_csrf=%E0%A4%A"].join("; ");
    case "junk-lang":
      return [...real, "famos_lang=__proto__"].join("; ");
    case "unsigned-device":
      return [...real, "famos_device=forged.device.value"].join("; ");
    default:
      return real.length ? real.join("; ") : null;
  }
}

/** The bytes of one fuzzed request. */
export function wireRequest(c: FuzzCase, route: RouteEntry | null, ctx: RequestContext): WireRequest {
  const method = c.method === "route" ? (route?.method ?? "GET") : c.method;
  const own = `127.0.0.1:${ctx.port}`;
  const hosts: Array<[string, string]> = c.host === "(none)" ? [] : c.host === "(twice)" ? [["host", own], ["host", "evil.example"]] : [["host", c.host ?? own]];
  const headers: Array<[string, string]> = [...hosts, ["user-agent", "famos-fuzz"]];
  const cookie = cookieHeader(c, ctx);
  if (cookie !== null) headers.push(["cookie", cookie]);
  if (c.acceptLanguage !== null) headers.push(["accept-language", c.acceptLanguage]);
  if (c.accept !== null) headers.push(["accept", c.accept]);
  if (c.origin !== null) headers.push(["origin", c.origin === "right" ? `http://127.0.0.1:${ctx.port}` : c.origin]);
  if (c.referer !== null) headers.push(["referer", c.referer]);
  if (route?.url === "/hooks/bounce" && c.csrf === "right") headers.push(["authorization", `Bearer ${ctx.webhookSecret}`]);
  const fields: Array<[string, string]> = c.ownFields && ctx.routeFields.length ? ctx.routeFields.map((name, i) => [name, c.values[i % c.values.length]!]) : [...c.fields];
  if ((c.csrf === "right" || c.csrf === "twice") && ctx.csrf) fields.push(["_csrf", ctx.csrf]);
  if (c.csrf === "twice" && ctx.csrf) fields.push(["_csrf", ctx.csrf]);
  if (c.csrf === "wrong") fields.push(["_csrf", "forged-token-value"]);
  let body: Buffer | undefined;
  switch (c.body) {
    case "form":
      headers.push(["content-type", "application/x-www-form-urlencoded"]);
      body = Buffer.from(formBody(fields), "latin1");
      break;
    case "no-type":
      body = Buffer.from(formBody(fields), "latin1");
      break;
    case "form-utf16":
      headers.push(["content-type", "application/x-www-form-urlencoded; charset=utf-16"]);
      body = Buffer.from(formBody(fields), "utf16le");
      break;
    case "two-types":
      headers.push(["content-type", "application/x-www-form-urlencoded"], ["content-type", "application/json"]);
      body = Buffer.from(formBody(fields), "latin1");
      break;
    case "json":
      headers.push(["content-type", "application/json"]);
      body = Buffer.from(JSON.stringify(Object.fromEntries(fields)), "utf8");
      break;
    case "broken-json":
      headers.push(["content-type", "application/json; charset=utf-8"]);
      body = Buffer.from(`{"a":${"[".repeat(50)}\xff`, "latin1");
      break;
    case "text":
      headers.push(["content-type", "text/plain"]);
      body = Buffer.from(fields.map(([k, v]) => `${k}=${v}`).join("\n"), "utf8");
      break;
    case "multipart": {
      const boundary = "----famosfuzz";
      headers.push(["content-type", `multipart/form-data; boundary=${boundary}`]);
      const parts = fields.map(([k, v]) => `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
      body = Buffer.from(`${parts.join("")}--${boundary}--\r\n`, "utf8");
      break;
    }
    default:
      body = undefined;
  }
  return { method, target: target(c, route, ctx), headers, ...(body ? { body } : {}) };
}
