import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { fetch, type Dispatcher } from "undici";
import type { Deps } from "../../src/app/deps.ts";
import type { Role, User } from "../../src/users/users.ts";
import { addUser } from "./app.ts";
import { smtpMailbox, type Mailbox } from "./mailbox.ts";
import type { TestSmtpServer } from "./smtp.ts";

/** A FAMOS over real HTTP (a child process, nginx in front): its base URL, and an undici dispatcher (e.g. trusting a test CA, or a local address of its own). */
export interface HttpTarget {
  baseUrl: string;
  dispatcher?: Dispatcher;
}

/** The one test client's target: an app in this process (driven through app.inject()) or a server over real HTTP. */
export function overHttp(baseUrl: string, dispatcher?: Dispatcher): HttpTarget {
  return { baseUrl, ...(dispatcher ? { dispatcher } : {}) };
}

type CookieSet = { name: string; value: string; expires?: Date; maxAge?: number };

/**
 * The one browser-like client of the tests: keeps cookies, remembers the CSRF token of the last page,
 * and sends it with the next form unless told otherwise. Over app.inject() (the app, from `ip`), or
 * over real HTTP (overHttp: fetch, redirects not followed, the Origin header a browser sends with a
 * form); either way an answer reads alike (statusCode, headers, body, cookies).
 */
export class FormClient {
  readonly cookies = new Map<string, string>();
  csrf: string | null = null;

  constructor(readonly target: FastifyInstance | HttpTarget, readonly ip = "127.0.0.1", readonly headers: Record<string, string> = {}) {}

  /** The app in this process (not for a client over HTTP). */
  get app(): FastifyInstance {
    if ("baseUrl" in this.target) throw new Error("a client over HTTP has no app in this process");
    return this.target;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.send("GET", url, this.requestHeaders());
  }

  /** Posts a form; `_csrf` is added from the last page unless `csrf: false` or a value is given. */
  async post(url: string, fields: Record<string, string> = {}, options: { csrf?: string | false; headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams(fields);
    const token = options.csrf === undefined ? this.csrf : options.csrf;
    if (token) body.set("_csrf", token);
    return this.send("POST", url, { ...this.requestHeaders(), "content-type": "application/x-www-form-urlencoded", ...options.headers }, body.toString());
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private requestHeaders(): Record<string, string> {
    const cookie = this.cookieHeader();
    return { "user-agent": "famos-test", ...this.headers, ...(cookie ? { cookie } : {}) };
  }

  private async send(method: "GET" | "POST", url: string, headers: Record<string, string>, payload?: string): Promise<LightMyRequestResponse> {
    const response =
      "baseUrl" in this.target
        ? await httpRequest(this.target, method, url, headers, payload)
        : await this.target.inject({ method, url, headers, remoteAddress: this.ip, ...(payload === undefined ? {} : { payload }) });
    this.absorb(response);
    return response;
  }

  private absorb(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies as CookieSet[]) {
      const expired = (cookie.expires && cookie.expires.getTime() < Date.now()) || cookie.maxAge === 0 || cookie.value === "";
      if (expired) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const match = /name="_csrf" value="([^"]+)"/.exec(response.body);
    if (match) this.csrf = match[1]!;
  }
}

/**
 * One request over real HTTP, answered in app.inject()'s shape: the fields tests read (statusCode,
 * headers with lower-case names, body, json(), cookies); not a stream.
 */
async function httpRequest(target: HttpTarget, method: string, url: string, headers: Record<string, string>, payload?: string): Promise<LightMyRequestResponse> {
  const sent = payload === undefined ? headers : { ...headers, origin: new URL(target.baseUrl).origin };
  const response = await fetch(new URL(url, target.baseUrl), { method, headers: sent, body: payload, redirect: "manual", ...(target.dispatcher ? { dispatcher: target.dispatcher } : {}) });
  const body = await response.text();
  const answerHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => (answerHeaders[name] = value));
  const setCookie = response.headers.getSetCookie();
  if (setCookie.length) answerHeaders["set-cookie"] = setCookie;
  const cookies: CookieSet[] = setCookie.map((line) => {
    const [pair, ...attributes] = line.split(";");
    const eq = pair!.indexOf("=");
    const cookie: CookieSet = { name: pair!.slice(0, eq).trim(), value: pair!.slice(eq + 1).trim() };
    for (const attribute of attributes) {
      const [name, value = ""] = attribute.split("=").map((part) => part.trim());
      if (/^max-age$/i.test(name!)) cookie.maxAge = Number(value);
      if (/^expires$/i.test(name!)) cookie.expires = new Date(attribute.slice(attribute.indexOf("=") + 1).trim());
    }
    return cookie;
  });
  const answer = { statusCode: response.status, statusMessage: response.statusText, headers: answerHeaders, body, payload: body, rawPayload: Buffer.from(body), cookies, json: () => JSON.parse(body) as unknown };
  return answer as unknown as LightMyRequestResponse;
}

/** Password step: GET /login then POST it. Returns the POST's response (303 to /enrol or /otp on success). */
export async function submitPassword(client: FormClient, loginId: string, password: string): Promise<LightMyRequestResponse> {
  await client.get("/login");
  return client.post("/login", { loginId, password });
}

/** Waits for the next code mailed to `to` and returns it. */
export function nextCode(smtp: TestSmtpServer, to: string, after = 0): Promise<string> {
  return smtpMailbox(smtp).code(to, after);
}

/** A full sign-in of a user with a confirmed OTP email: password, code, the page it leads to (see signIn). */
export async function signInFully(client: FormClient, smtp: TestSmtpServer, user: { login_id: string; password: string; otp_email: string | null }): Promise<void> {
  const { answer } = await signIn({ mailbox: smtpMailbox(smtp) }, { user, client, page: null });
  // As a browser, on to the page the code leads to: its forms carry tokens of the CSRF secret the code step renewed.
  const landing = answer.headers.location;
  if (typeof landing === "string" && landing.startsWith("/") && !landing.startsWith("//")) await client.get(landing);
}

export type TestUser = User & { password: string };
/** What a sign-in needs to know of a user. */
export type SignInUser = Pick<TestUser, "login_id" | "password" | "otp_email">;
/** How far a sign-in goes: waiting at "User profile", waiting at "OTP capture", or signed in. */
export type SignInStep = "enrol" | "otp" | "full";

/** What a sign-in needs of a test app: the integration app (SMTP) and the unit app (outbox) both have it. */
export interface SignInApp {
  /** The app a new client is made for (a client over HTTP is given as `client`). */
  app?: FastifyInstance;
  mailbox: Mailbox;
  /** Needed only to add a user when none is given. */
  deps?: Deps;
}

export interface SignInOptions<U extends SignInUser> {
  /** Default "full". */
  until?: SignInStep;
  /** An existing user; else a new one (without an OTP email when `until` is "enrol"). */
  user?: U;
  role?: Role;
  ip?: string;
  /** A client to sign in with (keeps its cookies); else a new one from `ip`. */
  client?: FormClient;
  /** The page fetched at the end, so the client holds its CSRF token (default: the step's own page, /profile when full; null: none). */
  page?: string | null;
  /** The sign-in page to start from (default "/login"); a hidden returnTo on it goes with the password, as a browser sends it. */
  from?: string;
}

export interface SignedInClient<U extends SignInUser> {
  client: FormClient;
  user: U;
  /** The code that was mailed (null for "enrol"). */
  code: string | null;
  /** The answer to the last form sent: the password's (enrol, otp) or the code's (full: 303 to where the user goes next). */
  answer: LightMyRequestResponse;
}

/**
 * The one sign-in of the tests: password, then (for a confirmed OTP email) the mailed code, through
 * the real forms. Throws with the answer it got when a step does not lead where it should.
 */
export async function signIn<U extends SignInUser = TestUser>(t: SignInApp, options: SignInOptions<U> = {}): Promise<SignedInClient<U>> {
  const until = options.until ?? "full";
  const user = options.user ?? (await newUser(t, options.role ?? "user", until === "enrol" ? null : undefined) as unknown as U);
  if (!options.client && !t.app) throw new Error("signIn: give a client, or an app to make one for");
  const client = options.client ?? new FormClient(t.app!, options.ip);
  const mark = await t.mailbox.mark();
  const login = await client.get(options.from ?? "/login");
  const returnTo = hiddenReturnTo(login.body);
  const password = await client.post("/login", { loginId: user.login_id, password: user.password, ...(returnTo ? { returnTo } : {}) });
  const expected = until === "enrol" ? "/enrol" : "/otp";
  if (password.statusCode !== 303 || password.headers.location !== expected) {
    throw new Error(`password step: expected 303 to ${expected}, got ${password.statusCode} ${password.headers.location ?? ""}`);
  }
  if (until === "enrol") {
    if (options.page !== null) await client.get(options.page ?? "/enrol");
    return { client, user, code: null, answer: password };
  }
  const code = await t.mailbox.code(user.otp_email!, mark);
  await client.get("/otp");
  if (until === "otp") {
    if (options.page) await client.get(options.page);
    return { client, user, code, answer: password };
  }
  const confirmed = await client.post("/otp", { code });
  if (confirmed.statusCode !== 303) throw new Error(`code step: expected 303, got ${confirmed.statusCode}`);
  if (options.page !== null) await client.get(options.page ?? "/profile");
  return { client, user, code, answer: confirmed };
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

/** The hidden returnTo of a sign-in page, unescaped, or null. */
export function hiddenReturnTo(body: string): string | null {
  const match = /name="returnTo" value="([^"]*)"/.exec(body);
  return match ? match[1]!.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!) : null;
}

function newUser(t: SignInApp, role: Role, email: null | undefined): Promise<TestUser> {
  if (!t.deps) throw new Error("signIn: give a user, or an app with deps to add one");
  return addUser(t.deps, { role, ...(email === null ? { email: null } : {}) });
}
