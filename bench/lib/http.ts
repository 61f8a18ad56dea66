/**
 * One virtual user's HTTP client: a cookie jar of its own over the driver's shared keep-alive undici
 * pool. Redirects are not followed (a step asserts them). POSTs carry `Origin` like a browser's.
 *
 * The jar is deliberately simple: one origin, so domain and path are ignored, and `Secure` cookies are
 * still sent (loopback is a secure context for browsers too). `Max-Age<=0` or a past `Expires` deletes.
 */
import type { Dispatcher, Pool } from "undici";
import { FlowError } from "./types.ts";

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  location: string | undefined;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
}

export class VuHttp {
  readonly jar = new Map<string, string>();

  constructor(
    private readonly pool: Pool,
    readonly origin: string,
    private readonly onResponse?: () => void,
    private readonly userAgent = "famos-bench/1",
  ) {}

  reset(): void {
    this.jar.clear();
  }

  cookieHeader(): string | undefined {
    if (this.jar.size === 0) return undefined;
    let out = "";
    for (const [k, v] of this.jar) out += (out ? "; " : "") + k + "=" + v;
    return out;
  }

  private storeCookies(setCookie: string | string[] | undefined): void {
    if (setCookie === undefined) return;
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const semi = line.indexOf(";");
      const pair = semi < 0 ? line : line.slice(0, semi);
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const attrs = semi < 0 ? "" : line.slice(semi + 1).toLowerCase();
      const maxAge = /(?:^|;)\s*max-age=(-?\d+)/.exec(attrs);
      const expires = /(?:^|;)\s*expires=([^;]+)/.exec(attrs);
      const expired =
        (maxAge !== null && Number(maxAge[1]) <= 0) ||
        (maxAge === null && expires !== null && Date.parse(expires[1] as string) <= Date.now());
      if (expired || value === "") this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(method: Dispatcher.HttpMethod, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { "user-agent": this.userAgent, ...options.headers };
    const cookie = this.cookieHeader();
    if (cookie !== undefined) headers.cookie = cookie;
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    } else if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    if (method !== "GET" && method !== "HEAD") {
      headers.origin ??= this.origin;
      if (body === undefined) headers["content-length"] = "0";
    }
    const res = await this.pool.request({ method, path, headers, body });
    const text = await res.body.text();
    this.storeCookies(res.headers["set-cookie"]);
    this.onResponse?.();
    const location = res.headers.location;
    return {
      status: res.statusCode,
      headers: res.headers,
      text,
      location: Array.isArray(location) ? location[0] : location,
    };
  }

  get(path: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("GET", path, options);
  }

  post(path: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("POST", path, options);
  }
}

/** Throws a FlowError naming the step's expectation, the status and the start of the body. */
export function expectStatus(res: HttpResponse, expected: number | number[], what: string): void {
  const ok = Array.isArray(expected) ? expected.includes(res.status) : res.status === expected;
  if (!ok) {
    const snippet = res.text.replace(/\s+/g, " ").slice(0, 160);
    throw new FlowError(`${what}: HTTP ${res.status} (expected ${String(expected)})${snippet ? ` ${snippet}` : ""}`);
  }
}

/** Path part of a Location header (absolute or relative), without the query. */
export function locationPath(res: HttpResponse): string | undefined {
  if (res.location === undefined) return undefined;
  try {
    return new URL(res.location, "http://x").pathname;
  } catch {
    return res.location;
  }
}
