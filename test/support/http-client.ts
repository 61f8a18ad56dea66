import { fetch, type Dispatcher } from "undici";
import { smtpMailbox } from "./mailbox.ts";
import type { TestSmtpServer } from "./smtp.ts";

export interface HttpAnswer {
  status: number;
  location: string | null;
  body: string;
  headers: Awaited<ReturnType<typeof fetch>>["headers"];
}

/**
 * FormClient's twin over real HTTP (fetch): keeps cookies, remembers the last page's CSRF token and
 * sends it with the next form. Redirects are not followed, so each step is one request.
 */
export class HttpFormClient {
  readonly cookies = new Map<string, string>();
  csrf: string | null = null;

  /** `dispatcher`: an undici Agent, e.g. one that trusts a test certificate. */
  constructor(readonly baseUrl: string, readonly headers: Record<string, string> = {}, readonly dispatcher?: Dispatcher) {}

  get(path: string): Promise<HttpAnswer> {
    return this.request("GET", path);
  }

  post(path: string, fields: Record<string, string> = {}): Promise<HttpAnswer> {
    const body = new URLSearchParams(fields);
    if (this.csrf) body.set("_csrf", this.csrf);
    return this.request("POST", path, body.toString());
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private async request(method: string, path: string, body?: string): Promise<HttpAnswer> {
    const headers: Record<string, string> = { "user-agent": "famos-test", ...this.headers };
    const cookie = this.cookieHeader();
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers.origin = new URL(this.baseUrl).origin;
    }
    const response = await fetch(new URL(path, this.baseUrl), { method, headers, body, redirect: "manual", ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}) });
    const text = await response.text();
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const gone = value === "" || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split("=")[1]!) < Date.now()));
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const match = /name="_csrf" value="([^"]+)"/.exec(text);
    if (match) this.csrf = match[1]!;
    return { status: response.status, location: response.headers.get("location"), body: text, headers: response.headers };
  }
}

/** Waits for the next code mailed to `to` after message number `after`. */
export function waitForCode(smtp: TestSmtpServer, to: string, after: number): Promise<string> {
  return smtpMailbox(smtp).code(to, after);
}
