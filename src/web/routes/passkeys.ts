import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { MAX_CREDENTIAL_JSON } from "../../passkeys/credential-json.ts";
import { PASSKEY_TEXT as T } from "../../passkeys/messages.ts";
import type { PasskeySummary } from "../../passkeys/passkeys.ts";
import { finishPasskeyRegistration, MAX_PASSKEY_NAME, startPasskeyRegistration, type FinishOutcome } from "../../passkeys/registration.ts";
import { removeOwnPasskey } from "../../passkeys/removal.ts";
import { confirmPasskey, passkeySignInOptions, type PasskeySignIn } from "../../passkeys/sign-in.ts";
import { webauthn } from "../../passkeys/webauthn.ts";
import type { SafeHtml } from "../../platform/html.ts";
import { codeConfirmedRecently, RECENT_CODE_MS } from "../../profile/reauthenticate.ts";
import { answerSignedOut, requestContext, setSessionCookie, signedIn, signedInFlow } from "../auth.ts";
import { field, formSchema, parseForm } from "../forms.ts";
import { relyingParty } from "../origin.ts";
import { passkeysSection } from "../pages/passkey-pages.ts";
import { pauseText } from "../pause-messages.ts";
import { rateLimited } from "../rate-limit.ts";
import { answerSignedIn } from "../signed-in.ts";
import type { Translator } from "../../i18n/translator.ts";
import { tr } from "../reader.ts";
import { passkeyBrings, type PasskeyBrought } from "../../strong-factors/manage.ts";
import { recoveryCodesPage } from "../pages/strong-factor-pages.ts";
import { portalFrameAfterCommit } from "./portal.ts";

const HTML = "text/html; charset=utf-8";

const START_FORM = formSchema({ name: field(256), password: field().optional() });
const FINISH_FORM = formSchema({ name: field(256), credential: field(MAX_CREDENTIAL_JSON) });
const SIGNIN_FINISH_FORM = formSchema({ credential: field(MAX_CREDENTIAL_JSON) });
const REMOVE_FORM = formSchema({ password: field().optional() });
const EMPTY_FORM = formSchema({});

/** The browser module's options request says so; a plain form post (no script) gets a page instead. */
const wantsJson = (request: FastifyRequest) => (request.headers.accept ?? "").includes("application/json");

type Access = "full" | "otp" | "enrol" | "password" | "support" | "admin" | "factor-setup";

/** Where a registration ceremony is mounted, and what its page does with the outcome. */
export interface PasskeyRegistrationMount {
  /** e.g. "/profile/passkeys": POST `${path}/options` starts (JSON for the module), POST `${path}` finishes. */
  path: string;
  access: Access;
  /**
   * A passkey was added, committed with what it brings (passkeyBrings: a first strong factor's
   * recovery codes, the setup screen's end with the session's new token): the page after it.
   */
  onAdded(request: FastifyRequest, reply: FastifyReply, added: Extract<FinishOutcome<PasskeyBrought>, { kind: "added" }>): unknown;
  /** A problem to show on the page, with the status to answer and the name typed. */
  onProblem(request: FastifyRequest, reply: FastifyReply, status: number, problem: { error: string; name: string }): unknown;
}

/**
 * The two routes of "Add a passkey", mountable on any page whose session may add one (Profile; the
 * strong-factor screen of issue 13). The fresh proof (a recent code, or the password) is asked at
 * the start; the challenge then carries it to the finish, bound to the session.
 */
export function passkeyRegistrationRoutes(app: FastifyInstance, deps: Deps, mount: PasskeyRegistrationMount): void {
  const limited = rateLimited(deps);
  app.post(`${mount.path}/options`, { config: { access: mount.access, ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(START_FORM, request.body);
    const name = form.name.slice(0, MAX_PASSKEY_NAME);
    if (!wantsJson(request)) return mount.onProblem(request, reply, 400, { error: T.needsScript, name });
    const t = tr(deps, request);
    const outcome = await startPasskeyRegistration(deps, user, session, { name: form.name, password: form.password ?? null }, relyingParty(request, deps.config), requestContext(deps, request));
    switch (outcome.kind) {
      case "options":
        return reply.send({ options: outcome.options });
      case "invalid":
        return reply.code(400).send({ error: t.said(outcome.message) });
      case "password-needed":
        return reply.code(401).send({ error: t.text("passkey.passwordNeeded", { recent: t.duration(RECENT_CODE_MS) }) });
      case "password-wrong":
        return reply.code(401).send({ error: t.said(T.passwordWrong) });
      case "locked":
        return reply.code(429).send({ error: pauseText(deps, outcome, t) });
    }
  });

  app.post(mount.path, { config: { access: mount.access, ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(FINISH_FORM, request.body);
    const name = form.name.slice(0, MAX_PASSKEY_NAME);
    const ctx = requestContext(deps, request);
    const outcome = await finishPasskeyRegistration(deps, user, session, { name: form.name, credential: form.credential }, relyingParty(request, deps.config), ctx, (tx, now) =>
      passkeyBrings(tx, deps, user, session, ctx, now),
    );
    switch (outcome.kind) {
      case "added":
        return mount.onAdded(request, reply, outcome);
      case "invalid":
        return mount.onProblem(request, reply, 400, { error: outcome.message, name });
      case "no-credential":
        return mount.onProblem(request, reply, 400, { error: T.noCredential, name });
      case "signed-out":
        return answerSignedOut(deps, reply);
      case "refused": {
        const error = outcome.reason === "not-verified" ? T.notVerifiedAdd : outcome.reason === "already-added" ? T.alreadyAdded : T.registrationFailed;
        return mount.onProblem(request, reply, 400, { error, name });
      }
    }
  });
}

export interface PasskeysSectionExtra {
  error?: string;
  name?: string;
  removeError?: string;
}

/** Profile → "Passkeys" for the signed-in user, whose passkeys the caller read (registered by profileRoutes). */
export function passkeysSectionFor(deps: Deps, request: FastifyRequest, csrf: string, passkeys: PasskeySummary[], extra: PasskeysSectionExtra = {}): SafeHtml {
  const { session } = signedIn(request);
  const done = (request.query as Record<string, unknown>).passkey;
  return passkeysSection(tr(deps, request), {
    csrf,
    passkeys,
    passwordNeeded: !codeConfirmedRecently(session, deps.clock.now()),
    info: done === "added" ? T.added : done === "removed" ? T.removed : undefined,
    ...(extra.removeError ? { removeError: extra.removeError } : {}),
    add: { ...(extra.error ? { error: extra.error } : {}), ...(extra.name ? { name: extra.name } : {}) },
  });
}

type RenderProfile = (request: FastifyRequest, reply: FastifyReply, status: number, passkeys: PasskeysSectionExtra) => Promise<unknown>;

/** Profile's passkey routes: add (the registration mount) and remove. */
export function profilePasskeyRoutes(app: FastifyInstance, deps: Deps, render: RenderProfile): void {
  passkeyRegistrationRoutes(app, deps, {
    path: "/profile/passkeys",
    access: "full",
    onAdded: async (request, reply, { brought: { recoveryCodes, renewed } }) => {
      // A password-only session proved the passkey: a two-factor session now, under a new token (passkeyBrings).
      if (renewed) setSessionCookie(deps, reply, renewed);
      // A user without recovery codes (this is their first strong factor) got a set, shown once.
      if (!recoveryCodes) return reply.redirect("/profile?passkey=added#passkeys", 303);
      const frame = await portalFrameAfterCommit(deps, request, reply);
      return reply.type(HTML).send(recoveryCodesPage(tr(deps, request), deps.config, { info: T.added, codes: recoveryCodes, next: "/profile#passkeys", frame }));
    },
    onProblem: (request, reply, status, problem) => render(request, reply, status, problem),
  });

  app.post("/profile/passkeys/:id/remove", { config: { access: "full", ...rateLimited(deps) } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(REMOVE_FORM, request.body);
    const { id } = request.params as { id: string };
    const outcome = await removeOwnPasskey(deps, user, session, { id, password: form.password ?? null }, requestContext(deps, request));
    switch (outcome.kind) {
      case "removed":
        return reply.redirect("/profile?passkey=removed#passkeys", 303);
      case "signed-out":
        return answerSignedOut(deps, reply);
      case "not-found":
        return render(request, reply, 404, { removeError: T.notFound });
      case "password-needed":
        return render(request, reply, 401, { removeError: tr(deps, request).text("passkey.passwordNeeded", { recent: tr(deps, request).duration(RECENT_CODE_MS) }) });
      case "password-wrong":
        return render(request, reply, 401, { removeError: T.passwordWrong });
      case "locked":
        return render(request, reply, 429, { removeError: pauseText(deps, outcome, tr(deps, request)) });
    }
  });
}

type RenderOtp = (request: FastifyRequest, reply: FastifyReply, extra: { error?: string | SafeHtml }) => Promise<SafeHtml>;

/** OTP capture → "Use a passkey instead" (registered by signinRoutes, which renders the page). */
export function passkeySignInRoutes(app: FastifyInstance, deps: Deps, renderOtp: RenderOtp): void {
  const limited = rateLimited(deps);
  const page = async (request: FastifyRequest, reply: FastifyReply, status: number, error: string) =>
    reply.code(status).type(HTML).send(await renderOtp(request, reply, { error: tr(deps, request).said(error) }));

  app.post("/otp/passkey/options", { config: { access: "otp", ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm(EMPTY_FORM, request.body);
    if (!wantsJson(request)) return page(request, reply, 400, T.needsScript);
    const options = await passkeySignInOptions(deps, user, session, relyingParty(request, deps.config));
    if (!options) return reply.code(409).send({ error: tr(deps, request).said(T.signInFailed) });
    return reply.send({ options });
  });

  app.post("/otp/passkey", { config: { access: "otp", flow: true, ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(SIGNIN_FINISH_FORM, request.body);
    const outcome = await confirmPasskey(deps, user, session, form.credential, relyingParty(request, deps.config), requestContext(deps, request), signedInFlow(request));
    if (outcome.kind === "signed-in") return answerSignedIn(deps, reply, user, outcome);
    const [status, error] = signInProblem(deps, tr(deps, request), outcome);
    return page(request, reply, status, error);
  });
}

function signInProblem(deps: Deps, t: Translator, outcome: Exclude<PasskeySignIn, { kind: "signed-in" }>): [number, string] {
  switch (outcome.kind) {
    case "malformed":
      return [400, T.noCredential];
    case "void":
    case "used":
      return [401, T.signInVoid];
    case "locked":
      return [429, t.text("passkey.signInLocked", { pause: pauseText(deps, outcome, t) })];
    case "refused":
      if (outcome.reason === "not-verified") return [401, T.signInNotVerified];
      if (outcome.reason === "counter-regressed" || outcome.reason === "backup-eligibility-changed") return [401, T.signInClone];
      return [401, T.signInFailed];
  }
}

/** @simplewebauthn/browser's bundle, served from the app like FAMOS's own modules (CSP script-src 'self'). */
export function passkeyLibraryRoute(app: FastifyInstance): void {
  // The server half is loaded lazily (passkeys/webauthn.ts): it holds about 7 MB of heap (an X.509
  // and ASN.1 stack) that a server whose users have no passkeys never needs (issue 17: memory). Only
  // the pages that offer a ceremony (adding a passkey; the OTP capture of a user who has one) bring
  // this script, so its first request starts loading the server half in the background, and the
  // ceremony, which waits for the user and their authenticator, does not wait for it. A failure here
  // is retried, and reported, by that ceremony.
  const entry = createRequire(import.meta.url).resolve("@simplewebauthn/browser");
  const source = readFileSync(join(dirname(entry), "..", "dist", "bundle", "index.umd.min.js"), "utf8");
  app.get("/static/vendor/simplewebauthn-browser.js", async (_request, reply) => {
    void webauthn().catch(() => undefined);
    return reply.type("text/javascript; charset=utf-8").header("cache-control", "public, max-age=3600").send(source);
  });
}
