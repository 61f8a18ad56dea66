import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import type { Translator } from "../i18n/translator.ts";
import { loadSignedIn, type Session, type Stage } from "../session/sessions.ts";
import { passwordOnly } from "../session/session-steps.ts";
import { endPasswordOnlyOutlived } from "../rollout/password-only.ts";
import type { Flow } from "../otp/flows.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { pageRefusal } from "../support/acting.ts";
import type { User } from "../users/users.ts";
import { rotateCsrfSecret } from "./csrf.ts";
import { deviceReads, deviceTokens } from "./device-cookie.ts";
import { HttpProblem } from "./errors.ts";
import { requestIsHttps } from "./https.ts";
import { securityCookie, securityCookieName } from "./security-cookie.ts";
import { expectedOrigin } from "./origin.ts";
import { applicationCookieTag, applicationCookieExpiries } from "./upstream-headers.ts";

export interface SignedIn {
  session: Session;
  user: User;
  /** The session's sign-in flow, read with it on a route whose config says `flow: true` (null: none); else not read. */
  flow?: Flow | null;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The live session and its user, or null when signed out. Loaded once per request. */
    famos: SignedIn | null;
    /** The request carried a session cookie whose session is no longer live (idle, past its limit, ended elsewhere). */
    famosLapsed: boolean;
  }
  interface FastifyContextConfig {
    /** Who may use the route: anyone, a half-signed-in session at that step, or a full session. */
    access?: "public" | "enrol" | "otp" | "full" | "support" | "admin" | "password" | "factor-setup";
    /** A protected-application route: its sandboxed pages' own forms may sign in with the section cookie (issue 19.4). */
    sandboxedSection?: true;
    /**
     * The route's handler uses the session's sign-in flow: it is read in the session's own statement
     * (loadSignedIn's `withFlow`, issue 17), as fresh as the session and the user: this request's.
     */
    flow?: true;
    /** The Sign out (and Cancel) form's route: pressed with no session left in the browser, it leads to the signed-out page. */
    signOut?: true;
    /**
     * A public form's own page ("Forgot password?"), when it is not sign-in: its form, refused as
     * having been open too long (signInForStaleForm), comes back there saying so, not to sign-in.
     */
    formPage?: string;
  }
}

/**
 * Cookie names: in HTTPS mode (decided per request, see requestIsHttps) the __Host- prefix pins the
 * cookie to this exact host with Secure and Path=/ (RFC 6265bis §4.1.3.2); with FAMOS_COOKIE_DOMAIN
 * it must be __Secure- instead (securityCookieName). Plain HTTP (development) keeps a plain name.
 */
export function sessionCookieName(deps: Pick<Deps, "config">, request?: FastifyRequest): string {
  const https = request ? requestIsHttps(deps.config, request) : deps.config.https;
  return securityCookieName("famos_session", https, deps.config.session.cookieDomain ?? undefined);
}

/** HttpOnly, SameSite=Lax, Path=/, Secure under HTTPS; a session cookie (no Max-Age): it ends with the browser. */
function sessionCookieOptions(deps: Pick<Deps, "config">, request: FastifyRequest) {
  return {
    path: "/",
    httpOnly: true,
    sameSite: "lax" as const,
    secure: requestIsHttps(deps.config, request),
    ...(deps.config.session.cookieDomain ? { domain: deps.config.session.cookieDomain } : {}),
  };
}

/**
 * The one place a session token reaches the browser (each sign-in step, a factor confirmed, a
 * password or address changed): the CSRF secret is renewed with it, so forms of pages seen at a
 * lower privilege no longer pass (OWASP CSRF cheat sheet; the page this reply renders gets the new one).
 * A full session's token (the sign-in's last step, whichever way it went; a later renewal, as after a
 * password change, usually finds none left) also ends the application cookies other users left in this
 * browser (expireOtherUsersCookies).
 */
export function setSessionCookie(deps: Pick<Deps, "config" | "random" | "keys">, reply: FastifyReply, issued: { token: string; session: Pick<Session, "user_id" | "stage"> }): void {
  reply.setCookie(sessionCookieName(deps, reply.request), issued.token, sessionCookieOptions(deps, reply.request));
  if (deps.config.upstreamUrl) reply.setCookie(sectionCookieName(deps, reply.request), issued.token, sectionCookieOptions());
  rotateCsrfSecret(reply, deps.config, deps.random);
  if (issued.session.stage === "full") expireOtherUsersCookies(deps, reply, issued.session.user_id);
}

/**
 * Reverse-proxy mode: the protected application's cookies carry their user's tag in the browser
 * (upstream-headers.ts), and on a PC shared by many staff the browser would send every one of them
 * with each request until the Cookie header outgrows nginx's or Node's limit and the PC is refused
 * everything. So a completed sign-in expires those of other users that the request carries
 * (applicationCookieExpiries): a user's application cookies outlive someone else's use of the browser
 * only until that person signs in. Not at the password step: a password alone ends nobody's cookies.
 */
function expireOtherUsersCookies(deps: Pick<Deps, "config" | "keys">, reply: FastifyReply, userId: string): void {
  if (!deps.config.upstreamUrl) return;
  const expiries = applicationCookieExpiries(reply.request.headers.cookie, applicationCookieTag(deps.keys.appCookie, userId));
  if (expiries.length > 0) reply.header("set-cookie", expiries);
}

/**
 * Only the cookies: for the session-loading hook, which drops a cookie that no longer names a live
 * session (expired, or ended by another browser or by support) on whatever request still carries it.
 * It keeps the CSRF secret: several such requests can be in flight at once (tabs restored together,
 * a page and its delivery poll), and a new secret for each would leave only the last one's cookie,
 * refusing the others' forms; the next sign-in renews it anyway. `named twice`: the request carried
 * the cookie's name more than once (securityCookie), so the host-only cookie goes as well as the
 * Domain one: a host-only cookie left from before FAMOS_COOKIE_DOMAIN was set is gone after this answer.
 */
function clearSessionCookie(deps: Pick<Deps, "config">, reply: FastifyReply, namedTwice = false): void {
  const options = sessionCookieOptions(deps, reply.request);
  reply.clearCookie(sessionCookieName(deps, reply.request), options);
  if (namedTwice && options.domain) reply.clearCookie(sessionCookieName(deps, reply.request), { ...options, domain: undefined });
  if (deps.config.upstreamUrl) reply.clearCookie(sectionCookieName(deps, reply.request), sectionCookieOptions());
}

/**
 * The one place FAMOS answers a form by ending this browser's sign-in (Sign out, Cancel at a sign-in
 * step, a form whose session ended on its way): the session cookies go and the CSRF secret is
 * renewed (OWASP CSRF cheat sheet: regenerate on session change), so a token from any page seen
 * before is refused afterwards, at a shared PC too; the login page it leads to carries a token of
 * the new secret. Clear-Site-Data "storage" drops what a page of this origin (the protected
 * application behind FAMOS) kept in the browser: local and session storage, IndexedDB, service
 * workers. Not "cookies": it clears every cookie of the registrable domain, sibling hosts' too, the
 * device cookie that keeps this browser out of others' lockouts and the new secret with them; the
 * cookies FAMOS set are cleared or renewed here by name. "cache" only in reverse-proxy mode: FAMOS's
 * own pages are no-store, but the protected application's keep the caching it chose, and at a shared
 * counter PC Back (the back/forward cache) or the address typed again (the HTTP cache) showed the
 * next person the customer pages the last one saw. Not in forward-auth mode (/auth/nginx,
 * /auth/traefik): there the application is usually on a sibling host, and Clear-Site-Data clears only
 * the origin that sends it, FAMOS's own no-store pages; the application must send `no-store` itself.
 */
export function endSignInHere(deps: Pick<Deps, "config" | "random">, reply: FastifyReply): void {
  clearSessionCookie(deps, reply);
  rotateCsrfSecret(reply, deps.config, deps.random);
  reply.header("clear-site-data", deps.config.upstreamUrl ? '"cache", "storage"' : '"storage"');
}

/** A request whose session ended while it was on its way (the domain's "signed-out"): signed out here, the browser to sign in. */
export function answerSignedOut(deps: Pick<Deps, "config" | "random">, reply: FastifyReply): FastifyReply {
  endSignInHere(deps, reply);
  return reply.redirect("/login", 303);
}

/**
 * Issue 19.4: the protected application's pages are served with `Content-Security-Policy: sandbox`,
 * so they run in an opaque origin and the browser treats their own form posts as cross-site: the
 * SameSite=Lax session cookie stays behind. The section cookie carries the same session to those
 * posts (SameSite=None, which browsers take only with Secure; loopback counts as secure). FAMOS
 * honours it only on the section paths and only for state-changing requests, which checkOrigin lets
 * through with `Origin: null` only as navigations: FAMOS's own pages never read it, so a script in a
 * sandboxed page reaches none of them.
 */
export function sectionCookieName(deps: Pick<Deps, "config">, request: FastifyRequest): string {
  return securityCookieName("famos_section", requestIsHttps(deps.config, request));
}

function sectionCookieOptions() {
  return { path: "/", httpOnly: true, sameSite: "none" as const, secure: true };
}

export function requestContext(deps: Pick<Deps, "config">, request: FastifyRequest): RequestContext {
  const agent = request.headers["user-agent"];
  return { ip: request.ip, userAgent: typeof agent === "string" ? agent.slice(0, 512) : "", deviceTokens: deviceTokens(deps, request), deviceReads: deviceReads(request) };
}

/** Where a session at each step belongs; a half-signed-in session reaches nothing else. */
export const STEP_PATH: Record<Stage, string> = { enrol: "/enrol", otp: "/otp", full: "/", password: "/choose-password", "factor-setup": "/factor-setup" };

export function registerSessionLoading(app: FastifyInstance, deps: Deps): void {
  app.decorateRequest("famos", null);
  app.decorateRequest("famosLapsed", false);
  app.addHook("preHandler", async (request, reply) => {
    // Static files, health and error routes need no session; the page for an address FAMOS has no
    // page at reads it (public) only to speak a signed-in reader's saved language.
    const access = request.routeOptions.config.access ?? (request.is404 ? "public" : undefined);
    if (access === undefined) return;
    const sectionPost = request.routeOptions.config.sandboxedSection === true && request.method !== "GET" && request.method !== "HEAD";
    // A session cookie named twice (one planted in front of FAMOS's) is no session: neither value is trusted.
    const own = securityCookie(request, sessionCookieName(deps, request));
    const token = own === undefined && sectionPost ? securityCookie(request, sectionCookieName(deps, request)) : own;
    if (token === null) {
      request.famosLapsed = true;
      clearSessionCookie(deps, reply, true);
    } else if (token) {
      const now = deps.clock.now();
      request.famos = await loadSignedIn(deps.db, token, now, deps.config.session, request.routeOptions.config.flow === true);
      // A password-only session whose account must now use two factors ends here (rollout/password-only.ts);
      // any other session is answered a plain false, and nothing is awaited for it.
      const ending = request.famos !== null && endPasswordOnlyOutlived(deps, request.famos, now, () => requestContext(deps, request));
      if (ending) {
        await ending;
        request.famos = null;
      }
      if (!request.famos) {
        request.famosLapsed = true;
        clearSessionCookie(deps, reply);
      }
    }
    if (access === "public") return;
    const famos = request.famos;
    if (!famos) return reply.redirect(signInPath(request, request.famosLapsed), 303);
    const needed: Stage = access === "support" || access === "admin" ? "full" : access;
    if (famos.session.stage !== needed) return reply.redirect(STEP_PATH[famos.session.stage], 303);
    const refused = access === "support" || access === "admin" ? pageRefusal(famos.user, access) : null;
    if (refused) throw new HttpProblem(403, refused.message);
    // A session opened by the password alone (before a 2FA rollout wave, or "Later") never reaches the
    // console, even when its user was given a support role meanwhile: the console is behind both factors.
    if (needed === "full" && access !== "full" && passwordOnly(famos.session)) {
      throw new HttpProblem(403, "The support console needs a sign-in with a one time passcode: sign out and sign in again.");
    }
  });
}

/**
 * The session of a request refused before the session hook ran (a form whose Origin or CSRF token is
 * refused, a body too large or of the wrong kind), read for its error page alone: the page speaks a
 * signed-in user's saved language, like every other page, rather than the browser's. Nothing is
 * decided by it, and a session that cannot be read leaves the page in the browser's language.
 */
export async function readSessionForErrorPage(deps: Pick<Deps, "config" | "db" | "clock">, request: FastifyRequest): Promise<void> {
  if (request.famos || request.t) return;
  const token = securityCookie(request, sessionCookieName(deps, request));
  if (!token) return;
  request.famos = await loadSignedIn(deps.db, token, deps.clock.now(), deps.config.session).catch(() => null);
}

/**
 * Where a request to a route that needs a session goes when it has none. The sign-in page says why
 * it is shown to a browser whose session ended on the way (`ended`): a signed-in page's form (idle on
 * the phone, expired, ended elsewhere, signed out in another tab) that nothing was done, or support
 * would take it as done ("form"); any other request that the session ended ("1").
 */
function signInPath(request: FastifyRequest, ended: boolean): string {
  const access = request.routeOptions.config.access;
  // "Choose a new password" too: sent after its session ended (the wave's start, SECURITY.md 18), nothing was chosen.
  const signedInForm = request.method !== "GET" && (access === "full" || access === "support" || access === "admin" || access === "password");
  const why = ended ? (signedInForm ? "ended=form" : "ended=1") : "";
  const query = [request.method === "GET" && request.url !== "/" ? `returnTo=${encodeURIComponent(request.url)}` : "", why].filter(Boolean);
  return query.length ? `/login?${query.join("&")}` : "/login";
}

/**
 * For the CSRF check, a form whose token did not match: where it goes instead of "Not allowed", or
 * null to refuse it. Sign out in one tab renews the CSRF secret (endSignInHere), so every other tab's
 * form fails the token; the session cookie went with it. Only when no session can be live for the
 * request, so that nothing can be done as anyone, does such a form go to sign-in: a route that needs a
 * session, to the page saying its session ended (it came from a page of a sign-in that is gone); Sign
 * out, to the signed-out page, as the user asked; a public form, back to its own page (sign-in, or
 * its route's formPage) saying it had been open too long. Nothing is done and no cookie is set on the way.
 *
 * No session cookie at all is one such case. A cookie whose session is over (a tab left open
 * overnight, after another tab signed in again and renewed the secret) is the other, and for it, as
 * for a public form (Log in on a sign-in page left open), the request must also be shown to come from
 * FAMOS's own page: its Origin is ours (checkOrigin has refused any other), or the browser says it is
 * same-origin (Sec-Fetch-Site, which no page can set). A post from anywhere else is refused as before,
 * and so is every form at a live session (someone signed in again in this browser, or a forged post).
 */
export async function signInForStaleForm(deps: Pick<Deps, "config" | "db" | "clock">, request: FastifyRequest): Promise<string | null> {
  const { access, signOut } = request.routeOptions.config;
  if (request.cookies[sessionCookieName(deps, request)] !== undefined) {
    if (!fromOwnPage(deps, request)) return null;
    await readSessionForErrorPage(deps, request);
    if (request.famos) return null;
  }
  if (signOut) return "/login?signedOut=1";
  if (access === undefined) return null;
  if (access === "public") return fromOwnPage(deps, request) ? staleFormPath(request.routeOptions.config.formPage ?? "/login") : null;
  return signInPath(request, true);
}

/** A public form's page, saying that the form was open too long and nothing was done (staleFormInfo). */
export function staleFormPath(formPage: string): string {
  return `${formPage}?ended=page`;
}

/** On a public form's page reached through staleFormPath: the words saying why; else undefined. */
export function staleFormInfo(t: Translator, request: FastifyRequest): string | undefined {
  return (request.query as Record<string, unknown> | undefined)?.ended === "page" ? t.text("login.formExpired") : undefined;
}

/** A request the browser says comes from FAMOS's own pages (see signInForStaleForm). */
function fromOwnPage(deps: Pick<Deps, "config">, request: FastifyRequest): boolean {
  if (request.headers["sec-fetch-site"] === "same-origin") return true;
  return request.headers.origin !== undefined && request.headers.origin === expectedOrigin(request, deps.config);
}

/** The signed-in pair for a route whose access rule already guaranteed one. */
export function signedIn(request: FastifyRequest): SignedIn {
  if (!request.famos) throw new Error("route without an access rule used the session");
  return request.famos;
}

/** The session's sign-in flow as read with the session (a route with `flow: true`); null when it has none. */
export function signedInFlow(request: FastifyRequest): Flow | null {
  const { flow } = signedIn(request);
  if (flow === undefined) throw new Error("route without flow: true used the session's flow");
  return flow;
}
