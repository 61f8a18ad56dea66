import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { Deps } from "../../src/app/deps.ts";
import type { Role, User } from "../../src/users/users.ts";
import { addUser } from "./app.ts";
import { smtpMailbox, type Mailbox } from "./mailbox.ts";
import type { TestSmtpServer } from "./smtp.ts";

/**
 * A browser-like client over app.inject(): keeps cookies, remembers the CSRF token of the last page,
 * and sends it with the next form unless told otherwise.
 */
export class FormClient {
  readonly cookies = new Map<string, string>();
  csrf: string | null = null;

  constructor(readonly app: FastifyInstance, readonly ip = "127.0.0.1", readonly headers: Record<string, string> = {}) {}

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
export function nextCode(smtp: TestSmtpServer, to: string, after = 0): Promise<string> {
  return smtpMailbox(smtp).code(to, after);
}

/** A full sign-in of a user with a confirmed OTP email: password, code, portal (see signIn). */
export async function signInFully(client: FormClient, smtp: TestSmtpServer, user: { login_id: string; password: string; otp_email: string | null }): Promise<void> {
  await signIn({ app: client.app, mailbox: smtpMailbox(smtp) }, { user, client, page: null });
}

export type TestUser = User & { password: string };
/** What a sign-in needs to know of a user. */
export type SignInUser = Pick<TestUser, "login_id" | "password" | "otp_email">;
/** How far a sign-in goes: waiting at "User profile", waiting at "OTP capture", or signed in. */
export type SignInStep = "enrol" | "otp" | "full";

/** What a sign-in needs of a test app: the integration app (SMTP) and the unit app (outbox) both have it. */
export interface SignInApp {
  app: FastifyInstance;
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
  const client = options.client ?? new FormClient(t.app, options.ip);
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
