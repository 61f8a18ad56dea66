import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import type { SafeHtml } from "../../platform/html.ts";
import { confirmWithApp, confirmWithRecoveryCode, type StrongConfirmOutcome } from "../../signin/strong-step.ts";
import { pendingApp } from "../../strong-factors/authenticator-app.ts";
import { factorsOf, type FactorSummary } from "../../strong-factors/factors.ts";
import { beginAppSetup, confirmAppSetup, removeApp, renewRecoveryCodes, type ConfirmSetupOutcome } from "../../strong-factors/manage.ts";
import { PASSKEY_TEXT } from "../../passkeys/messages.ts";
import { addPasskeyForm } from "../pages/passkey-pages.ts";
import { passkeyRegistrationRoutes } from "./passkeys.ts";
import { STRONG_TEXT } from "../../strong-factors/messages.ts";
import type { FreshProof } from "../../profile/reauthenticate.ts";
import { secondStepOptions } from "../../strong-factors/policy.ts";
import { answerSignedOut, requestContext, setSessionCookie, signedIn } from "../auth.ts";
import type { Translator } from "../../i18n/translator.ts";
import { tr } from "../reader.ts";
import { field, formSchema, parseForm } from "../forms.ts";
import { pauseText } from "../pause-messages.ts";
import {
  appCodePage, appSetupPageForProfile, appSetupPageForSetup, factorSetupPage, factorsSection, recoveryCodePage, recoveryCodesPage, type SecondStepChoices,
} from "../pages/strong-factor-pages.ts";
import { rateLimited } from "../rate-limit.ts";
import { portalFrame, portalFrameAfterCommit } from "./portal.ts";
import { renderProfilePage } from "./profile.ts";
import { answerSignedIn } from "../signed-in.ts";

const HTML = "text/html; charset=utf-8";
/** The app's code and a recovery code, each named by its own label when refused (forms.ts FIELD_LABELS). */
const CODE_FORM = formSchema({ code: field(64) }, { code: "strong.codeFromApp" });
const RECOVERY_CODE_FORM = formSchema({ code: field(64) }, { code: "strong.recoveryCode" });
const PASSWORD_FORM = formSchema({ password: field().optional() });

const DONE: Record<string, string> = { "app-removed": STRONG_TEXT.appRemoved, "setup-cancelled": STRONG_TEXT.setupCancelled };

/** Where the passkeys module plugs its option into OTP capture and the setup screen (issue 13). */
export interface PasskeyOptions {
  /** The "Use a passkey instead" control for a user with `count` passkeys. */
  signIn?: (count: number) => SafeHtml;
}

/**
 * OTP capture's choices for the signed-in user (signin.ts renders them). A flow without an address (the
 * strong step of a user who has none: passwordStep) offers no emailed code: there is nowhere to send one.
 */
export async function otpChoices(deps: Deps, request: FastifyRequest, passkeys: PasskeyOptions = {}, flow?: { email: string }): Promise<SecondStepChoices & { emailCode: boolean }> {
  const { user } = signedIn(request);
  const options = await secondStepOptions(deps.db, deps.config, user);
  const passkey = options.passkeys > 0 ? passkeys.signIn?.(options.passkeys) : undefined;
  return { emailCode: options.emailCode && flow?.email !== "", app: options.app, recovery: options.recovery, ...(passkey ? { passkey } : {}) };
}

/** Profile's factors section for the signed-in user, whose factors the caller read. */
export async function factorsPart(deps: Deps, request: FastifyRequest, csrf: string, factors: FactorSummary, passwordNeeded: boolean, message: { error?: string; info?: string }): Promise<SafeHtml> {
  const query = request.query as Record<string, unknown>;
  const done = typeof query.factors === "string" ? DONE[query.factors] : undefined;
  const info = message.info ?? done;
  // A setup is continued only in the session that started it (startAppSetup): no "Continue" link elsewhere.
  const { user, session } = signedIn(request);
  const setupHere = factors.appPending && (await pendingApp(deps, user, session)) !== null;
  return factorsSection(tr(deps, request), { csrf, factors, setupHere, passwordNeeded, ...(info ? { info } : {}), ...(message.error ? { error: message.error } : {}) });
}

/** Why a code was refused, with the status to answer. */
function refusal(deps: Deps, t: Translator, outcome: Exclude<StrongConfirmOutcome | ConfirmSetupOutcome, { kind: "signed-in" | "added" }>, factor: "app" | "recovery"): [number, string] {
  switch (outcome.kind) {
    case "malformed":
      return [400, factor === "app" ? STRONG_TEXT.appMalformed : STRONG_TEXT.recoveryMalformed];
    case "locked":
      return [429, t.text("confirm.locked", { pause: pauseText(deps, outcome, t) })];
    case "used":
      return [401, factor === "app" ? STRONG_TEXT.appUsed : STRONG_TEXT.recoveryUsed];
    case "wrong":
      return [401, factor === "app" ? STRONG_TEXT.appWrong : STRONG_TEXT.recoveryWrong];
    case "none":
      return [400, factor === "app" ? STRONG_TEXT.noApp : STRONG_TEXT.noRecovery];
    case "void":
      return [401, STRONG_TEXT.noPendingApp];
  }
}

async function qrSetupView(deps: Deps, request: FastifyRequest, csrf: string, action: string, error?: string) {
  const { user, session } = signedIn(request);
  const pending = await pendingApp(deps, user, session);
  if (!pending) return null;
  // Loaded when a code is drawn (an app being set up), not by every server at start (issue 17: resident memory).
  const { QRCode } = await import("../qrcode.ts");
  const qrSvg = await QRCode.toString(pending.uri, { type: "svg", margin: 2, errorCorrectionLevel: "M" });
  return { csrf, qrSvg, secret: pending.secret, action, ...(error ? { error } : {}) };
}

/**
 * Issue 13's routes: OTP capture's "Use authenticator app" and "Use a recovery code"; the setup
 * screen of FAMOS_STRONG_FACTOR_ROLES (stage "factor-setup": nothing else is reachable from it but
 * Sign out); Profile's app setup, removal and new recovery codes.
 */
export function strongFactorRoutes(app: FastifyInstance, deps: Deps): void {
  const limited = rateLimited(deps);
  const { config } = deps;

  // --- sign-in: OTP capture's other ways ---
  const ways = [
    { path: "/otp/app", confirm: confirmWithApp, render: appCodePage, factor: "app" as const, form: CODE_FORM },
    { path: "/otp/recovery", confirm: confirmWithRecoveryCode, render: recoveryCodePage, factor: "recovery" as const, form: RECOVERY_CODE_FORM },
  ];
  for (const way of ways) {
    app.get(way.path, { config: { access: "otp" } }, async (request, reply) => reply.type(HTML).send(way.render(tr(deps, request), config, { csrf: reply.generateCsrf() })));
    app.post(way.path, { config: { access: "otp", ...limited } }, async (request, reply) => {
      const { user, session } = signedIn(request);
      const form = parseForm(way.form, request.body);
      const outcome = await way.confirm(deps, user, session, form.code, requestContext(deps, request));
      if (outcome.kind === "signed-in") return answerSignedIn(deps, reply, user, outcome);
      const t = tr(deps, request);
      const [status, error] = refusal(deps, t, outcome, way.factor);
      return reply.code(status).type(HTML).send(way.render(t, config, { csrf: reply.generateCsrf(), error }));
    });
  }

  // --- the setup screen FAMOS_STRONG_FACTOR_ROLES cannot get past ---
  const setup = { config: { access: "factor-setup" as const } };
  const setupPage = (t: Translator, csrf: string, passkey: { error?: string; name?: string } = {}) =>
    factorSetupPage(t, config, { csrf, passkey: addPasskeyForm(t, { csrf, path: "/factor-setup/passkey", passwordNeeded: false, ...passkey }) });
  app.get("/factor-setup", setup, async (request, reply) => reply.type(HTML).send(setupPage(tr(deps, request), reply.generateCsrf())));
  // "Add a passkey" on the setup screen: the passkeys module's ceremony; the first passkey brings
  // the recovery codes and ends the setup stage, in the transaction that stores it (passkeyBrings), as the app's confirming code does.
  passkeyRegistrationRoutes(app, deps, {
    path: "/factor-setup/passkey",
    access: "factor-setup",
    onAdded: async (request, reply, { brought: outcome }) => {
      if (outcome.renewed) setSessionCookie(deps, reply, outcome.renewed);
      if (!outcome.recoveryCodes) return reply.redirect("/", 303);
      return reply.type(HTML).send(recoveryCodesPage(tr(deps, request), config, { info: PASSKEY_TEXT.added, codes: outcome.recoveryCodes, next: "/" }));
    },
    onProblem: (request, reply, status, problem) => reply.code(status).type(HTML).send(setupPage(tr(deps, request), reply.generateCsrf(), problem)),
  });
  // "Set up authenticator app" starts the setup (a secret nobody else sees) on a POST with its CSRF
  // token, as Profile's does; posting again keeps the secret already shown. A GET only shows it: a
  // link prefetch or an <img> pointing here must not start (or restart) anything.
  app.post("/factor-setup/app", { config: { access: "factor-setup", ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm({}, request.body);
    if (!(await pendingApp(deps, user, session))) await beginAppSetup(deps, user, session, null, requestContext(deps, request));
    return reply.redirect("/factor-setup/app", 303);
  });
  app.get("/factor-setup/app", setup, async (request, reply) => {
    const view = await qrSetupView(deps, request, reply.generateCsrf(), "/factor-setup/app/confirm");
    if (!view) return reply.redirect("/factor-setup", 303);
    return reply.type(HTML).send(appSetupPageForSetup(tr(deps, request), config, view));
  });
  app.post("/factor-setup/app/confirm", { config: { access: "factor-setup", ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(CODE_FORM, request.body);
    const outcome = await confirmAppSetup(deps, user, session, form.code, requestContext(deps, request));
    if (outcome.kind === "added") {
      setSessionCookie(deps, reply, outcome);
      return reply.type(HTML).send(recoveryCodesPage(tr(deps, request), config, { info: STRONG_TEXT.appConfirmed, codes: outcome.recoveryCodes, next: "/" }));
    }
    const [status, error] = refusal(deps, tr(deps, request), outcome, "app");
    const view = await qrSetupView(deps, request, reply.generateCsrf(), "/factor-setup/app/confirm", error);
    if (!view) return reply.redirect("/factor-setup", 303);
    return reply.code(status).type(HTML).send(appSetupPageForSetup(tr(deps, request), config, view));
  });

  // --- Profile ---
  const full = { config: { access: "full" as const, ...limited } };
  /** The session ended while its change was on its way: nothing changed, the browser signs in again. */
  const refusedFresh = (request: FastifyRequest, reply: FastifyReply, outcome: Exclude<FreshProof, { kind: "ok" }>) => {
    if (outcome.kind === "locked") return renderProfilePage(deps, request, reply, 429, { factorsMessage: { error: pauseText(deps, outcome, tr(deps, request)) } });
    const error = outcome.kind === "password-needed" ? STRONG_TEXT.passwordNeeded : STRONG_TEXT.passwordWrong;
    return renderProfilePage(deps, request, reply, 401, { factorsMessage: { error } });
  };

  app.post("/profile/app", full, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(PASSWORD_FORM, request.body);
    const outcome = await beginAppSetup(deps, user, session, form.password ?? null, requestContext(deps, request));
    if (outcome.kind === "started") return reply.redirect("/profile/app", 303);
    if (outcome.kind === "exists") return renderProfilePage(deps, request, reply, 409, { factorsMessage: { error: STRONG_TEXT.appExists } });
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    return refusedFresh(request, reply, outcome);
  });
  app.get("/profile/app", { config: { access: "full" } }, async (request, reply) => {
    const frame = await portalFrame(deps, request, reply);
    const view = await qrSetupView(deps, request, frame.csrf, "/profile/app/confirm");
    if (!view) return reply.redirect("/profile#factors", 303);
    return reply.type(HTML).send(appSetupPageForProfile(frame, view));
  });
  app.post("/profile/app/confirm", full, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(CODE_FORM, request.body);
    const outcome = await confirmAppSetup(deps, user, session, form.code, requestContext(deps, request));
    if (outcome.kind === "added") {
      setSessionCookie(deps, reply, outcome);
      const frame = await portalFrameAfterCommit(deps, request, reply);
      return reply.type(HTML).send(recoveryCodesPage(tr(deps, request), config, { info: STRONG_TEXT.appConfirmed, codes: outcome.recoveryCodes, next: "/profile#factors", frame }));
    }
    const [status, error] = refusal(deps, tr(deps, request), outcome, "app");
    const frame = await portalFrame(deps, request, reply);
    const view = await qrSetupView(deps, request, frame.csrf, "/profile/app/confirm", error);
    if (!view) return renderProfilePage(deps, request, reply, 400, { factorsMessage: { error: STRONG_TEXT.noPendingApp } });
    return reply.code(status).type(HTML).send(appSetupPageForProfile(frame, view));
  });
  app.post("/profile/app/remove", full, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(PASSWORD_FORM, request.body);
    const before = await factorsOf(deps.db, user.id);
    const outcome = await removeApp(deps, user, session, form.password ?? null, requestContext(deps, request));
    if (outcome.kind === "removed") return reply.redirect(`/profile?factors=${before.app ? "app-removed" : "setup-cancelled"}#factors`, 303);
    if (outcome.kind === "none") return reply.redirect("/profile#factors", 303);
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    return refusedFresh(request, reply, outcome);
  });
  app.post("/profile/recovery-codes", full, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(PASSWORD_FORM, request.body);
    const outcome = await renewRecoveryCodes(deps, user, session, form.password ?? null, requestContext(deps, request));
    if (outcome.kind === "renewed") {
      const frame = await portalFrameAfterCommit(deps, request, reply);
      return reply.type(HTML).send(recoveryCodesPage(tr(deps, request), config, { info: STRONG_TEXT.codesRenewed, codes: outcome.recoveryCodes, next: "/profile#factors", frame }));
    }
    if (outcome.kind === "no-strong-factor") return renderProfilePage(deps, request, reply, 400, { factorsMessage: { error: STRONG_TEXT.noStrongFactor } });
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    return refusedFresh(request, reply, outcome);
  });
}
