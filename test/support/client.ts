import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { extractCode, type TestSmtpServer } from "./smtp.ts";

/**
 * A browser-like client over app.inject(): keeps cookies, remembers the CSRF token of the last page,
 * and sends it with the next form unless told otherwise.
 */
export class FormClient {
  readonly cookies = new Map<string, string>();
  csrf: string | null = null;

  constructor(private readonly app: FastifyInstance, readonly ip = "127.0.0.1", readonly headers: Record<string, string> = {}) {}

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({ method: "GET", url, headers: this.requestHeaders(), remoteAddress: this.ip });
    this.absorb(response);
    return response;
  }

  /** Posts a form; `_csrf` is added from the last page unless `csrf: false` or a value is given. */
  async post(url: string, fields: Record<string, string> = {}, options: { csrf?: string | false; headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams(fields);
    const token = options.csrf === undefined ? this.csrf : options.csrf;
    if (token) body.set("_csrf", token);
    const response = await this.app.inject({
      method: "POST",
      url,
      payload: body.toString(),
      headers: { ...this.requestHeaders(), "content-type": "application/x-www-form-urlencoded", ...options.headers },
      remoteAddress: this.ip,
    });
    this.absorb(response);
    return response;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private requestHeaders(): Record<string, string> {
    const cookie = this.cookieHeader();
    return { "user-agent": "famos-test", ...this.headers, ...(cookie ? { cookie } : {}) };
  }

  private absorb(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies as Array<{ name: string; value: string; expires?: Date; maxAge?: number }>) {
      const expired = (cookie.expires && cookie.expires.getTime() < Date.now()) || cookie.maxAge === 0 || cookie.value === "";
      if (expired) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const match = /name="_csrf" value="([^"]+)"/.exec(response.body);
    if (match) this.csrf = match[1]!;
  }
}

/** Password step: GET /login then POST it. Returns the POST's response (303 to /enrol or /otp on success). */
export async function submitPassword(client: FormClient, loginId: string, password: string): Promise<LightMyRequestResponse> {
  await client.get("/login");
  return client.post("/login", { loginId, password });
}

/** Waits for the next code mailed to `to` and returns it. */
export async function nextCode(smtp: TestSmtpServer, to: string, after = 0): Promise<string> {
  const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes(to) && smtp.messages.indexOf(m) >= after && /passcode/.test(m.subject));
  return extractCode(mail.text);
}

/** A full sign-in of a user with a confirmed OTP email: password, code, portal. */
export async function signInFully(client: FormClient, smtp: TestSmtpServer, user: { login_id: string; password: string; otp_email: string | null }): Promise<void> {
  const before = smtp.messages.length;
  const response = await submitPassword(client, user.login_id, user.password);
  if (response.statusCode !== 303 || response.headers.location !== "/otp") throw new Error(`password step: ${response.statusCode} ${response.headers.location}`);
  const code = await nextCode(smtp, user.otp_email!, before);
  await client.get("/otp");
  const confirmed = await client.post("/otp", { code });
  if (confirmed.statusCode !== 303) throw new Error(`code step: ${confirmed.statusCode}`);
}
