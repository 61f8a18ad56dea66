import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Deps } from "../../app/deps.ts";
import { enrolEmail } from "../../enrolment/enrol.ts";
import { asksOwnMailbox } from "../../enrolment/review-address.ts";
import type { SafeHtml } from "../../platform/html.ts";
import { cancelSignIn, confirmCode, regenerateCode, signOut } from "../../signin/code-step.ts";
import { passkeyOffered } from "../../passkeys/sign-in.ts";
import { passkeySignInForm } from "../pages/passkey-pages.ts";
import { passkeySignInRoutes } from "./passkeys.ts";
import { answerSignedIn } from "../signed-in.ts";
import { graceOffer } from "../../rollout/grace.ts";
import { passwordStep } from "../../signin/password-step.ts";
import { MAX_LOGIN_ID_LENGTH } from "../../factors/limits.ts";
import { codeDeliveryState, deliveryStatusJson } from "../code-delivery.ts";
import { confirmProblem, issueNotice, issueProblemText } from "../code-messages.ts";
import { answerSignedOut, endSignInHere, requestContext, setSessionCookie, signedIn, signedInFlow, staleFormInfo, STEP_PATH } from "../auth.ts";
import { field, formSchema, parseForm } from "../forms.ts";
import { enrolPage, loginPage, otpPage, wrongEmailPage } from "../pages/signin-pages.ts";
import { deliveryRefused } from "../pages/code-entry.ts";
import { refusedText } from "../pause-messages.ts";
import { rateLimited } from "../rate-limit.ts";
import { browserLocale, tr } from "../reader.ts";
import { chooseLanguage } from "../locale.ts";
import { withBrowserLocale } from "../../users/locale.ts";
import type { User } from "../../users/users.ts";
import { acceptReturnTo, returnTarget } from "../return-to.ts";
import { portalHome } from "./portal.ts";
import { otpChoices } from "./strong-factors.ts";

const HTML = "text/html; charset=utf-8";

const LOGIN_FORM = formSchema({ loginId: field(), password: field(), returnTo: field(2048).optional() });
const ENROL_FORM = formSchema({ email: field(), confirmEmail: field(), ownMailbox: z.literal("yes").optional(), keepTyped: field().optional() });
const ENROL_CANCEL_FORM = formSchema({ email: field().optional(), confirmEmail: field().optional(), ownMailbox: field(8).optional(), keepTyped: field().optional() });
const CODE_FORM = formSchema({ code: field(64) });
/** Cancel and Regenerate share the code form, so its field may come along. */
const CODE_BUTTON_FORM = formSchema({ code: field(64).optional() });
const EMPTY_FORM = formSchema({});

/**
 * A second factor confirmed (the emailed code, an authenticator app, a recovery code, a passkey): the
 * new session cookie, the device cookie, and on to the next step — "Choose a new password", the
 * strong-factor setup (no return_to: nothing else is reachable before it) or where the user was going.
 */
/** Screens 1, 2, 4, 7 and 9: sign in, "User profile", "OTP capture", "Entered a wrong email?", sign out. */

/**
 * Where a sign-in's codes go, for OTP capture when its flow has no code yet (the hourly cap): the
 * confirmed address, or at enrolment the one being confirmed. A confirmed user's pending address is a
 * Profile change's (perhaps long dead), never a sign-in's.
 */
function addressOfCodes(user: Pick<User, "otp_email" | "pending_email">): string {
  return user.otp_email ?? user.pending_email ?? "";
}
export function signinRoutes(app: FastifyInstance, deps: Deps): void {
  const { config } = deps;
  const limited = rateLimited(deps);

  const showLogin = (request: FastifyRequest, reply: FastifyReply) => {
    if (request.famos) return reply.redirect(STEP_PATH[request.famos.session.stage], 303);
    const query = request.query as Record<string, unknown>;
    const returnTo = acceptReturnTo(deps, typeof query.returnTo === "string" ? query.returnTo : null);
    const t = tr(deps, request);
    // Issue 16: the language switch's links.
    const chosen = chooseLanguage(deps, request, reply, returnTo);
    if (chosen !== null && chosen !== "unknown") return reply.redirect(chosen, 303);
    const error = chosen === "unknown" ? t.text("language.unknown") : undefined;
    // A lapsed session: sent here by the access check (?ended=1, or ?ended=form for a signed-in page's
    // form: nothing was done), or "/" reloaded with its cookie. ?ended=page: a form of a page left open
    // too long, with no session to go back to (signInForStaleForm).
    const ended = staleFormInfo(t, request) ?? (query.ended === "form" ? t.text("login.sessionEndedForm") : query.ended === "1" || request.famosLapsed ? t.text("login.sessionEnded") : undefined);
    // Sign out and Cancel (at OTP capture or User profile) each say what happened, as a status line.
    const info = query.signedOut === "1" ? t.text("login.signedOut") : query.cancelled === "1" ? t.text("login.cancelled") : query.reset === "1" ? t.text("login.passwordReset") : ended;
    return reply.code(error ? 400 : 200).type(HTML).send(loginPage(t, config, { csrf: reply.generateCsrf(), returnTo, info, error }));
  };
  app.get("/login", { config: { access: "public" } }, showLogin);
  app.get("/", { config: { access: "public" } }, async (request, reply) => {
    if (request.famos?.session.stage === "full") return portalHome(deps, request, reply);
    return showLogin(request, reply);
  });

  app.post("/login", { config: { access: "public", ...limited } }, async (request, reply) => {
    const form = parseForm(LOGIN_FORM, request.body);
    const returnTo = acceptReturnTo(deps, form.returnTo);
    const replaces = request.famos ? { sessionId: request.famos.session.id, loginId: request.famos.user.login_id } : null;
    const outcome = await passwordStep(deps, { loginId: form.loginId, password: form.password, returnTo, replaces, browserLocale: browserLocale(deps, request) }, requestContext(deps, request));
    if (outcome.kind === "refused") {
      const t = tr(deps, request);
      const error = refusedText(deps, outcome, t);
      return reply.code(401).type(HTML).send(loginPage(t, config, { csrf: reply.generateCsrf(), loginId: form.loginId.slice(0, MAX_LOGIN_ID_LENGTH), error, returnTo }));
    }
    setSessionCookie(deps, reply, outcome);
    if (outcome.kind === "enrol") return reply.redirect("/enrol", 303);
    // A temporary password, even with the password alone, leads to "Choose a new password" first.
    if (outcome.kind === "portal") return reply.redirect(outcome.session.stage === "full" ? returnTarget(deps, returnTo) : STEP_PATH[outcome.session.stage], 303);
    if (outcome.kind === "strong-factor") return reply.redirect("/otp", 303);
    // A cap can stop even the first code of a sign-in: OTP capture then says why and until when.
    return reply.redirect(outcome.issued.kind === "sent" ? "/otp" : `/otp${issueNotice(outcome.issued)}`, 303);
  });

  app.get("/enrol", { config: { access: "enrol" } }, async (request, reply) =>
    reply.type(HTML).send(enrolPage(tr(deps, request), config, { csrf: reply.generateCsrf(), later: await graceOffer(deps, signedIn(request).user) })),
  );

  app.post("/enrol", { config: { access: "enrol", ...limited } }, async (request, reply) => {
    const { session } = signedIn(request);
    const form = parseForm(ENROL_FORM, request.body);
    // Issue 16: the language the browser asks for becomes the one its mails are written in, stored
    // only once the address is accepted (with it, in its transaction); as at the password step, a
    // browser asking for none FAMOS ships saves none (FAMOS_DEFAULT_LOCALE is nobody's choice).
    const asked = browserLocale(deps, request);
    const user = asked ? withBrowserLocale(signedIn(request).user, asked) : signedIn(request).user;
    const outcome = await enrolEmail(
      deps,
      signedIn(request).user,
      session,
      { email: form.email, confirmEmail: form.confirmEmail, ownMailbox: form.ownMailbox === "yes", keepTyped: form.keepTyped },
      requestContext(deps, request),
      asked ?? undefined,
    );
    if (outcome.kind === "invalid") {
      const view = {
        csrf: reply.generateCsrf(),
        email: form.email.slice(0, 254),
        confirmEmail: form.confirmEmail.slice(0, 254),
        error: tr(deps, request).said(outcome.message),
        askOwnMailbox: asksOwnMailbox(outcome.problem, config.enrolment.sharedMailboxPolicy),
        ownMailbox: form.ownMailbox === "yes",
        ...(outcome.suggestion ? { suggestion: outcome.suggestion } : {}),
        later: await graceOffer(deps, user),
      };
      return reply.code(400).type(HTML).send(enrolPage(tr(deps, request), config, view));
    }
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    // A double click's loser: the first click moved the session to its code; the browser follows it.
    // No `?done=`: advanceSession's "moved" (the other click's step), not endHalfSignedIn's (a sign-in
    // completed), so "/" sends the browser on to the step the session is at and has nothing to claim.
    if (outcome.kind === "moved") return reply.redirect("/", 303);
    setSessionCookie(deps, reply, outcome.renewed);
    return reply.redirect(`/otp${issueNotice(outcome.issued)}`, 303);
  });

  app.post("/enrol/cancel", { config: { access: "enrol" } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    // The page's Cancel button sends the address fields along; anything else is refused like any form.
    parseForm(ENROL_CANCEL_FORM, request.body);
    return answerCancel(reply, await cancelSignIn(deps, user, session, requestContext(deps, request)));
  });

  app.get("/otp", { config: { access: "otp" } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const notice = typeof query.notice === "string" ? query.notice : "";
    const retry = typeof query.at === "string" && /^\d{1,15}$/.test(query.at) ? Number(query.at) : null;
    const error = issueProblemText(deps, notice, retry, "signin", tr(deps, request));
    return reply.type(HTML).send(await renderOtp(request, reply, { error }, notice === "sent"));
  });

  // OTP capture's status module asks here while the code's email is queued or retried (issue 15).
  app.get("/otp/delivery", { config: { access: "otp" } }, async (request, reply) => {
    const { session, user } = signedIn(request);
    const t = tr(deps, request);
    const { delivery } = await codeDeliveryState(deps, t, session.flow_id, addressOfCodes(user), user);
    return reply.send(deliveryStatusJson(t, delivery));
  });

  app.post("/otp", { config: { access: "otp", flow: true, ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(CODE_FORM, request.body);
    const outcome = await confirmCode(deps, user, session, form.code, requestContext(deps, request), signedInFlow(request));
    if (outcome.kind === "signed-in") return answerSignedIn(deps, reply, user, outcome);
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    const [status, error] = confirmProblem(deps, outcome, tr(deps, request), "signin", signedInFlow(request));
    return reply.code(status).type(HTML).send(await renderOtp(request, reply, { error }));
  });

  app.post("/otp/regenerate", { config: { access: "otp", flow: true, ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm(CODE_BUTTON_FORM, request.body);
    const issued = await regenerateCode(deps, user, session, requestContext(deps, request), signedInFlow(request));
    if (issued.kind === "signed-out") return answerSignedOut(deps, reply);
    if (issued.kind === "no-flow") return reply.redirect("/", 303);
    if (issued.kind === "strong-factor-required") return reply.redirect("/otp", 303);
    return reply.redirect(`/otp${issueNotice(issued)}`, 303);
  });

  app.post("/otp/cancel", { config: { access: "otp" } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm(CODE_BUTTON_FORM, request.body);
    return answerCancel(reply, await cancelSignIn(deps, user, session, requestContext(deps, request)));
  });

  app.post("/logout", { config: { access: "public", signOut: true } }, async (request, reply) => {
    parseForm(EMPTY_FORM, request.body);
    if (request.famos) await signOut(deps, request.famos.user, request.famos.session, requestContext(deps, request));
    endSignInHere(deps, reply);
    return reply.redirect("/login?signedOut=1", 303);
  });

  app.get("/wrong-email", { config: { access: "public" } }, async (request, reply) => reply.type(HTML).send(wrongEmailPage(tr(deps, request), config)));

  passkeySignInRoutes(app, deps, renderOtp);

  /**
   * Cancel at "User profile" or OTP capture: ended here or by another request first ("signed-out", nothing
   * written), to sign in either way. "moved" only when a Confirm of the same sign-in (another tab, the other
   * button of a double click) was answered first and signed in (endHalfSignedIn); the Cancel changed nothing,
   * and the browser keeps that session and goes where it now is (STEP_PATH), which shows it signed in and
   * says why (`?done=`).
   */
  function answerCancel(reply: FastifyReply, outcome: Awaited<ReturnType<typeof cancelSignIn>>) {
    if (outcome.kind === "moved") return reply.redirect("/?done=already-signed-in", 303);
    endSignInHere(deps, reply);
    return reply.redirect("/login?cancelled=1", 303);
  }

  async function renderOtp(request: FastifyRequest, reply: FastifyReply, extra: { error?: string | SafeHtml }, justSent = false) {
    const { session, user } = signedIn(request);
    const t = tr(deps, request);
    const { delivery, codesSent, flow } = await codeDeliveryState(deps, t, session.flow_id, addressOfCodes(user), user);
    // Only a code that replaced another is "new", and only then did earlier codes stop working.
    // One whose email did not go says only that earlier codes stopped working, beside why it did not go.
    const info = justSent && codesSent > 1 ? t.text(deliveryRefused(delivery) ? "otp.earlierCodesVoid" : "otp.newCode") : undefined;
    const csrf = reply.generateCsrf();
    const passkey = passkeyOffered(flow) ? () => passkeySignInForm(tr(deps, request), csrf) : undefined;
    return otpPage(t, config, { csrf, ...delivery, info, ...extra, choices: await otpChoices(deps, request, passkey ? { signIn: passkey } : {}, flow) });
  }
}

