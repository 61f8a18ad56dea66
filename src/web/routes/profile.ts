import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Deps } from "../../app/deps.ts";
import { maskEmail } from "../../platform/format.ts";
import type { MessageKey } from "../../i18n/translator.ts";
import { checkedDoneNotice, ownEventClaim, tr, type CheckedDone } from "../reader.ts";
import { profileSettingsRoutes } from "./profile-settings.ts";
import type { SafeHtml } from "../../platform/html.ts";
import { cancelEmailChange, confirmEmailChange, emailChangeReplaced, pendingEmailChange, resendEmailChangeCode, startEmailChange } from "../../profile/email-change.ts";
import { changePassword } from "../../profile/password-change.ts";
import { asksOwnMailbox } from "../../enrolment/review-address.ts";
import { codeConfirmedRecently, RECENT_CODE_MS } from "../../profile/reauthenticate.ts";
import { answerSignedOut, requestContext, setSessionCookie, signedIn } from "../auth.ts";
import { field, parseForm } from "../forms.ts";
import { emailConfirmPage, profilePage, type ProfileView } from "../pages/profile-pages.ts";
import { deliveryRefused } from "../pages/code-entry.ts";
import { sentAddress, USE_SUGGESTION } from "../pages/address-suggestion.ts";
import { rateLimited } from "../rate-limit.ts";
import { portalFrame } from "./portal.ts";
import { profileSessionRoutes, sessionsSection } from "./profile-sessions.ts";
import { factorsPart } from "./strong-factors.ts";
import { factorsWithPasskeys } from "../../strong-factors/factors.ts";
import { passkeysSectionFor, profilePasskeyRoutes, type PasskeysSectionExtra } from "./passkeys.ts";
import { confirmProblem, issueNotice, issueProblemText } from "../code-messages.ts";
import { pauseText } from "../pause-messages.ts";
import { codeDeliveryState, deliveryStatusJson } from "../code-delivery.ts";

const HTML = "text/html; charset=utf-8";
/** A typed code the email change refused, as confirmProblem tells it. */
type ConfirmRefusal = Parameters<typeof confirmProblem>[1];

/**
 * What Profile says after a change (`?done=`): each change's words only after the user's own event of it
 * (ownEventClaim); "replaced" as the code step finds it (emailChangeReplaced). A link written by anyone says
 * nothing the records do not.
 */
function profileDone(deps: Deps, request: FastifyRequest): Record<string, MessageKey | CheckedDone> {
  const { user, session } = signedIn(request);
  const own = (key: MessageKey, event: "email.changed" | "code.cancelled" | "password.changed", holds?: (d: Record<string, unknown>) => boolean) =>
    ownEventClaim(deps, request, key, { event, subject: user.login_id, holds });
  return {
    "email-changed": own("profile.emailChanged", "email.changed"),
    "email-cancelled": own("profile.emailCancelled", "code.cancelled", (d) => d.purpose === "email-change"),
    "email-replaced": async (t) => ((await emailChangeReplaced(deps, user, session)) ? t.text("profile.emailReplaced") : undefined),
    "password-changed": own("profile.passwordChanged", "password.changed"),
    // Names no change of access: the page below shows the language and zone as saved.
    "settings-saved": "profile.settingsSaved",
  };
}

/** The Profile tab with its parts; `view` carries a form's message (and `factorsMessage` the factors section's). */
export async function renderProfilePage(
  deps: Deps,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  view: Partial<ProfileView> & { factorsMessage?: { error?: string; info?: string } },
  passkeys: PasskeysSectionExtra = {},
) {
  const frame = await portalFrame(deps, request, reply);
  const { user, session } = signedIn(request);
  const pending = await pendingEmailChange(deps, user, session);
  const passwordNeeded = !codeConfirmedRecently(session, deps.clock.now());
  const { factorsMessage, ...rest } = view;
  // Both sections from one statement (issue 17): the passkey list, and the factors it counts among.
  const factors = await factorsWithPasskeys(deps.db, user.id);
  const page = profilePage(frame, {
    passwordNeeded,
    pendingTo: pending ? maskEmail(pending.email) : null,
    sessions: await sessionsSection(deps, request, frame.csrf),
    passkeys: passkeysSectionFor(deps, request, frame.csrf, factors.passkeys, passkeys),
    factors: await factorsPart(deps, request, frame.csrf, factors.factors, passwordNeeded, factorsMessage ?? {}),
    ...rest,
  });
  return reply.code(status).type(HTML).send(page);
}

/** Screen 6, the "Profile" tab: change the OTP email (with its code step) and the password. */
export function profileRoutes(app: FastifyInstance, deps: Deps): void {
  const limited = rateLimited(deps);

  const renderProfile = (request: FastifyRequest, reply: FastifyReply, status: number, view: Partial<ProfileView>, passkeys: PasskeysSectionExtra = {}) =>
    renderProfilePage(deps, request, reply, status, view, passkeys);

  app.get("/profile", { config: { access: "full" } }, async (request, reply) => {
    return renderProfile(request, reply, 200, { info: await checkedDoneNotice(deps, request, profileDone(deps, request)) });
  });

  app.post("/profile/email", { config: { access: "full", ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm(
      { newEmail: field(), confirmNewEmail: field(), ownMailbox: z.literal("yes").optional(), password: field().optional(), keepTyped: field().optional(), [USE_SUGGESTION]: field().optional() },
      request.body,
    );
    // "Did you mean …?"'s "Use …" is a button of this form when it asks for the password (didYouMean): the password goes with it.
    const entry = sentAddress({ email: form.newEmail, confirmEmail: form.confirmNewEmail, ownMailbox: form.ownMailbox === "yes", keepTyped: form.keepTyped }, form[USE_SUGGESTION]);
    const outcome = await startEmailChange(deps, user, session, { entry, password: form.password ?? null }, requestContext(deps, request));
    if (outcome.kind === "code-sent") return reply.redirect(`/profile/email/confirm${issueNotice(outcome.issued)}`, 303);
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    // A double click's loser: the first click moved the session to its flow; the browser follows it to that code.
    if (outcome.kind === "moved") return reply.redirect("/profile/email/confirm", 303);
    const values = { newEmail: entry.email.slice(0, 254), confirmNewEmail: entry.confirmEmail.slice(0, 254) };
    const t = tr(deps, request);
    switch (outcome.kind) {
      case "invalid": {
        const askOwnMailbox = asksOwnMailbox(outcome.problem, deps.config.enrolment.sharedMailboxPolicy);
        const suggestion = outcome.suggestion ? { suggestion: outcome.suggestion } : {};
        return renderProfile(request, reply, 400, { email: { ...values, error: t.said(outcome.message), askOwnMailbox, ownMailbox: form.ownMailbox === "yes", ...suggestion } });
      }
      case "password-needed":
        return renderProfile(request, reply, 401, {
          email: { ...values, error: t.text("profile.passwordNeeded", { recent: t.duration(RECENT_CODE_MS) }), passwordRefused: true, keepTyped: entry.keepTyped },
        });
      case "password-wrong":
        // The address kept after "Did you mean …?" stays kept: it passed its review so, and the next try needs it again.
        return renderProfile(request, reply, 401, { email: { ...values, error: t.text("profile.passwordWrong"), passwordRefused: true, keepTyped: entry.keepTyped } });
      case "locked":
        return renderProfile(request, reply, 429, { email: { ...values, error: pauseText(deps, outcome, t), keepTyped: entry.keepTyped } });
    }
  });

  app.get("/profile/email/confirm", { config: { access: "full" } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const notice = typeof query.notice === "string" ? query.notice : "";
    const retry = typeof query.at === "string" && /^\d{1,15}$/.test(query.at) ? Number(query.at) : null;
    return renderConfirm(request, reply, 200, { error: issueProblemText(deps, notice, retry, "email-change", tr(deps, request)) }, notice === "sent");
  });

  // The email-change code step's status module asks here while the email is queued or retried (issue 15).
  app.get("/profile/email/confirm/delivery", { config: { access: "full" } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const flow = await pendingEmailChange(deps, user, session);
    if (!flow) return reply.send({ pending: false, html: "" });
    const t = tr(deps, request);
    const { delivery } = await codeDeliveryState(deps, t, flow.id, flow.email, user);
    return reply.send(deliveryStatusJson(t, delivery, true));
  });

  app.post("/profile/email/confirm", { config: { access: "full", ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm({ code: field(64) }, request.body);
    const outcome = await confirmEmailChange(deps, user, session, form.code, requestContext(deps, request));
    if (outcome.kind === "changed") {
      setSessionCookie(deps, reply, outcome);
      return reply.redirect("/profile?done=email-changed", 303);
    }
    // None open, or ended since this request read it (Cancel in another tab, a newer change elsewhere), no
    // guess counted: Profile says "replaced", else "cancelled" (words only after the user's own Cancel, ownEventClaim).
    if (outcome.kind === "no-change") return noChangeOpen(request, reply, "/profile?done=email-cancelled");
    return renderConfirm(request, reply, 401, { refused: outcome });
  });

  app.post("/profile/email/regenerate", { config: { access: "full", ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm({ code: field(64).optional() }, request.body);
    const issued = await resendEmailChangeCode(deps, user, session, requestContext(deps, request));
    if (issued.kind === "signed-out") return answerSignedOut(deps, reply);
    if (issued.kind === "no-flow" || issued.kind === "strong-factor-required") return noChangeOpen(request, reply);
    return reply.redirect(`/profile/email/confirm${issueNotice(issued)}`, 303);
  });

  app.post("/profile/email/cancel", { config: { access: "full" } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm({ code: field(64).optional() }, request.body);
    const outcome = await cancelEmailChange(deps, user, session, requestContext(deps, request));
    // Another request of the session moved it off the change first: the browser follows the session
    // (a newer change's code page, else Profile, saying so when a change elsewhere replaced it).
    if (outcome.kind === "moved") return reply.redirect("/profile/email/confirm", 303);
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    // None open (a second click after the first's answer, a change replaced elsewhere): not "cancelled" again.
    if (outcome.kind === "no-change") return noChangeOpen(request, reply);
    return reply.redirect("/profile?done=email-cancelled", 303);
  });

  app.post("/profile/password", { config: { access: "full", ...limited } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const form = parseForm({ currentPassword: field(), newPassword: field(), confirmNewPassword: field() }, request.body);
    const outcome = await changePassword(deps, user, session, form, requestContext(deps, request));
    switch (outcome.kind) {
      case "changed":
        setSessionCookie(deps, reply, outcome);
        return reply.redirect("/profile?done=password-changed", 303);
      case "signed-out":
        return answerSignedOut(deps, reply);
      case "current-wrong":
        return renderProfile(request, reply, 401, { passwordError: tr(deps, request).text("profile.currentWrong"), passwordRefused: "currentPassword" });
      case "locked":
        return renderProfile(request, reply, 429, { passwordError: pauseText(deps, outcome, tr(deps, request)) });
      case "invalid":
        // Not typed the same twice too: both new fields are typed again, from the new password.
        return renderProfile(request, reply, 400, { passwordError: tr(deps, request).said(outcome.message), passwordRefused: "newPassword" });
    }
  });

  /** The code step with no change open in this session: back to Profile (`otherwise`), saying so when a newer change ended it. */
  async function noChangeOpen(request: FastifyRequest, reply: FastifyReply, otherwise = "/profile") {
    const { user, session } = signedIn(request);
    return reply.redirect((await emailChangeReplaced(deps, user, session)) ? "/profile?done=email-replaced" : otherwise, 303);
  }

  /** `refused`: a typed code's outcome, told in words (with its status) once the flow's codes so far are known. */
  async function renderConfirm(request: FastifyRequest, reply: FastifyReply, status: number, extra: { error?: string | SafeHtml; refused?: ConfirmRefusal }, justSent = false) {
    const { user, session } = signedIn(request);
    const flow = await pendingEmailChange(deps, user, session);
    if (!flow) return noChangeOpen(request, reply);
    const frame = await portalFrame(deps, request, reply);
    const t = frame.t;
    const { delivery, codesSent } = await codeDeliveryState(deps, t, flow.id, flow.email, user);
    // The first code of a change is "sent"; only a replacement makes earlier codes stop working. One
    // whose email did not go is on no way: the delivery line says why, and earlier codes still stopped.
    const refused = deliveryRefused(delivery);
    const key = codesSent > 1 ? (refused ? "otp.earlierCodesVoid" : "emailConfirm.newCode") : refused ? null : "emailConfirm.codeSent";
    const info = justSent && key !== null ? t.text(key) : undefined;
    const [code, error] = extra.refused ? confirmProblem(deps, extra.refused, t, "email-change", flow) : [status, extra.error];
    return reply.code(code).type(HTML).send(emailConfirmPage(frame, { ...delivery, info, error }));
  }

  profileSessionRoutes(app, deps);
  profilePasskeyRoutes(app, deps, (request, reply, status, passkeys) => renderProfile(request, reply, status, {}, passkeys));
  profileSettingsRoutes(app, deps, renderProfile);
}
