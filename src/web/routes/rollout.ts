import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Deps } from "../../app/deps.ts";
import { graceOffer, useGrace } from "../../rollout/grace.ts";
import { enrolEarly, enrolInvitation } from "../../rollout/invitation.ts";
import { asksOwnMailbox } from "../../enrolment/review-address.ts";
import { codeConfirmedRecently } from "../../profile/reauthenticate.ts";
import { changeWave, type WaveProblems } from "../../rollout/plan-change.ts";
import { readPlan } from "../../rollout/plan.ts";
import { rolloutProgress } from "../../rollout/progress.ts";
import { rolloutCsv } from "../../rollout/report.ts";
import { formatDateTime } from "../../platform/format.ts";
import { answerSignedOut, requestContext, setSessionCookie, signedIn, STEP_PATH } from "../auth.ts";
import { HttpProblem } from "../errors.ts";
import { field, formSchema, parseForm } from "../forms.ts";
import { issueNotice } from "../code-messages.ts";
import { rolloutPage, type RolloutView } from "../pages/rollout-pages.ts";
import { enrolPage } from "../pages/signin-pages.ts";
import { sentAddress, USE_SUGGESTION } from "../pages/address-suggestion.ts";
import { portalFrame } from "./portal.ts";
import { acting } from "./support-acting.ts";
import { checkedDoneNotice, ownEventClaim, tr, type CheckedDone } from "../reader.ts";
import { pauseText } from "../pause-messages.ts";
import type { MessageKey, Translator } from "../../i18n/translator.ts";
import type { FieldProblems } from "../field-problems.ts";

const HTML = "text/html; charset=utf-8";

const PLAN_FORM = formSchema({ partner: field(64), from: field(64) });
const REMOVE_FORM = formSchema({ partner: field(64) });
const ENROL_FORM = formSchema({
  email: field(),
  confirmEmail: field(),
  ownMailbox: z.literal("yes").optional(),
  password: field().optional(),
  keepTyped: field().optional(),
  [USE_SUGGESTION]: field().optional(),
});
/** "Later" and early Cancel are buttons of the address form: its fields come along ("Did you mean …?"'s keepTyped too). */
const BUTTON_FORM = formSchema({ email: field().optional(), confirmEmail: field().optional(), ownMailbox: field(8).optional(), password: field().optional(), keepTyped: field().optional() });

const DONE: Record<string, MessageKey> = {
  set: "rollout.done.set",
  "set-nobody": "rollout.done.setNobody",
  "set-past": "rollout.done.setPast",
  removed: "rollout.done.removed",
  told: "rollout.done.toldAgain",
};

/**
 * What the Rollout page says after a change of the plan (`?done=`): only after the reader's own change
 * (ownEventClaim, "rollout.planned"): a start saved for the set-… words, a wave removed for "removed".
 */
function rolloutDone(deps: Deps, request: FastifyRequest): Record<string, CheckedDone> {
  const saved = (d: Record<string, unknown>) => d.startsAt != null;
  const claim = (key: string, holds?: (d: Record<string, unknown>) => boolean) =>
    ownEventClaim(deps, request, DONE[key]!, { event: "rollout.planned", holds });
  return { set: claim("set", saved), "set-nobody": claim("set-nobody", saved), "set-past": claim("set-past", saved), removed: claim("removed", (d) => d.startsAt == null), told: claim("told") };
}

/** Why the plan form was refused, by field in the form's order, in the reader's language: each said beside its field. */
function planProblems(t: Translator, problems: WaveProblems): FieldProblems {
  return new Map(PLAN_FIELDS.flatMap((id) => (problems[id] === undefined ? [] : [[id, t.said(problems[id])] as const])));
}
const PLAN_FIELDS = ["partner", "from"] as const;

/** Issue 12: the console's "Rollout" page, early enrolment from the portal, and "Later". */
export function rolloutRoutes(app: FastifyInstance, deps: Deps): void {
  const { config } = deps;

  async function renderRollout(request: FastifyRequest, reply: FastifyReply, status: number, extra: Partial<RolloutView>) {
    // Days, like every time on the console, in the reader's zone.
    const [progress, plan, frame] = await Promise.all([rolloutProgress(deps, { timeZone: tr(deps, request).timeZone }), readPlan(deps.db), portalFrame(deps, request, reply)]);
    const canEdit = signedIn(request).user.role === "admin";
    return reply.code(status).type(HTML).send(rolloutPage(frame, { progress, plan, canEdit, ...extra }));
  }

  app.get("/support/rollout", { config: { access: "support" } }, async (request, reply) => {
    return renderRollout(request, reply, 200, { info: await checkedDoneNotice(deps, request, rolloutDone(deps, request)) });
  });

  app.get("/support/rollout.csv", { config: { access: "support" } }, async (request, reply) => {
    const stamp = new Date(deps.clock.now()).toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    // starts_local in the reader's zone, as the page and the audit trail's export.
    const zone = tr(deps, request).timeZone;
    return reply
      .type("text/csv; charset=utf-8")
      .header("content-disposition", `attachment; filename="famos-rollout-${stamp}.csv"`)
      .send(rolloutCsv(await rolloutProgress(deps, { timeZone: zone }), zone));
  });

  // A start decides when accounts must use two factors (a later one or none keeps them on the password alone).
  app.post("/support/rollout/plan", { config: { access: "admin", consoleWrite: "step-up", consoleSection: "rollout" } }, async (request, reply) => {
    const form = parseForm(PLAN_FORM, request.body);
    // Read in the zone the page names beside the field: the reader's.
    const outcome = await changeWave(deps, acting(request), { partner: form.partner, from: form.from, timeZone: tr(deps, request).timeZone });
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    if (outcome.kind === "invalid") return renderRollout(request, reply, 400, { problems: planProblems(tr(deps, request), outcome.problems), form });
    // A start for a number nobody has touches no one now, past or not: that warning comes first.
    // Users mailed the replaced start are told again by the next announcement: said after those.
    const done = outcome.kind !== "set" ? "set" : outcome.nobody ? "set-nobody" : outcome.past ? "set-past" : outcome.toldAgain > 0 ? "told" : "set";
    // A time the clocks skip (changeWave's `skipped`, as `famos rollout plan` warns): said on the page
    // itself, before the other words, since only this answer knows the time typed (a link could forge it).
    if (outcome.kind === "set" && outcome.skipped) {
      const t = tr(deps, request);
      const skipped = t.text("rollout.done.skipped", {
        typed: formatDateTime(outcome.skipped.wall, "UTC", t.locale),
        jump: t.duration(outcome.skipped.byMs),
        start: t.withZone(t.dateTime(outcome.startsAt), outcome.startsAt),
      });
      return renderRollout(request, reply, 200, { info: `${skipped} ${t.text(DONE[done]!)}` });
    }
    return reply.redirect(`/support/rollout?done=${done}`, 303);
  });

  app.post("/support/rollout/plan/remove", { config: { access: "admin", consoleWrite: "step-up", consoleSection: "rollout" } }, async (request, reply) => {
    const form = parseForm(REMOVE_FORM, request.body);
    const outcome = await changeWave(deps, acting(request), { partner: form.partner, from: null });
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    if (outcome.kind === "invalid") return renderRollout(request, reply, 400, { error: tr(deps, request).said(outcome.message) });
    // Nothing to remove (a second tab, a colleague first, a typed number): said, not "removed".
    if (outcome.kind === "not-found") {
      const t = tr(deps, request);
      const error = outcome.partnerNumber === null ? t.text("rollout.problem.noDefault") : t.text("rollout.problem.noWave", { partner: outcome.partnerNumber });
      return renderRollout(request, reply, 409, { error });
    }
    return reply.redirect(`/support/rollout?done=${outcome.kind === "removed" && outcome.toldAgain > 0 ? "told" : "removed"}`, 303);
  });

  /** Early enrolment: only for a user signed in with the password alone and invited to enrol. */
  async function invited(request: FastifyRequest) {
    const famos = signedIn(request);
    if (!(await enrolInvitation(deps, famos.user))) throw new HttpProblem(409, "Your OTP email is already set up, or there is nothing to set up yet.");
    return famos;
  }
  const early = { action: "/rollout/enrol", cancelAction: "/rollout/enrol/cancel" };

  /** The password field, as Profile's address form has it: unless a code was confirmed in this session lately (requireFreshProof's rule). */
  const passwordField = (request: FastifyRequest, refused = false) => (codeConfirmedRecently(signedIn(request).session, deps.clock.now()) ? {} : { password: { refused } });

  app.get("/rollout/enrol", { config: { access: "full" } }, async (request, reply) => {
    await invited(request);
    return reply.type(HTML).send(enrolPage(tr(deps, request), config, { csrf: reply.generateCsrf(), ...early, ...passwordField(request) }));
  });

  app.post("/rollout/enrol", { config: { access: "full" } }, async (request, reply) => {
    const form = parseForm(ENROL_FORM, request.body);
    const { user, session } = await invited(request);
    // "Did you mean …?"'s "Use …" is a button of this form (didYouMean): the suggested address in both fields, the password typed here with it.
    const ownMailbox = form.ownMailbox === "yes";
    const entry = sentAddress({ email: form.email, confirmEmail: form.confirmEmail, ownMailbox, keepTyped: form.keepTyped }, form[USE_SUGGESTION]);
    const outcome = await enrolEarly(deps, user, session, { entry, password: form.password ?? null }, requestContext(deps, request));
    const t = tr(deps, request);
    const typed = { csrf: reply.generateCsrf(), email: entry.email.slice(0, 254), confirmEmail: entry.confirmEmail.slice(0, 254), ...early };
    if (outcome.kind === "invalid") {
      const askOwnMailbox = asksOwnMailbox(outcome.problem, config.enrolment.sharedMailboxPolicy);
      // "Did you mean …?" with its "Use …" button and the typed address kept, as at /enrol and on Profile.
      const suggestion = outcome.suggestion ? { suggestion: outcome.suggestion } : {};
      const view = { ...typed, error: t.said(outcome.message), askOwnMailbox, ownMailbox, ...suggestion, ...passwordField(request) };
      return reply.code(400).type(HTML).send(enrolPage(t, config, view));
    }
    // Refused as Profile's address form refuses it; asked for in early enrolment's own words (no address is changed here).
    if (outcome.kind === "password-needed" || outcome.kind === "password-wrong" || outcome.kind === "locked") {
      const error = outcome.kind === "locked" ? pauseText(deps, outcome, t) : outcome.kind === "password-wrong" ? t.text("profile.passwordWrong") : t.text("rollout.enrolPasswordNeeded");
      // A tick given, and an address kept after "Did you mean …?", stay so: the address passed its
      // review with them, and the next try needs them again (else it asks the same question again).
      const tick = ownMailbox ? { askOwnMailbox: true, ownMailbox: true } : {};
      const view = { ...typed, error, ...tick, keepTyped: entry.keepTyped, ...passwordField(request, outcome.kind !== "locked") };
      return reply.code(outcome.kind === "locked" ? 429 : 401).type(HTML).send(enrolPage(t, config, view));
    }
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    // A double click's loser: the first click moved the session to its code; the browser follows it.
    if (outcome.kind === "moved") return reply.redirect("/", 303);
    setSessionCookie(deps, reply, outcome.renewed);
    return reply.redirect(`/otp${issueNotice(outcome.issued)}`, 303);
  });

  app.post("/rollout/enrol/cancel", { config: { access: "full" } }, async (request, reply) => {
    parseForm(BUTTON_FORM, request.body);
    return reply.redirect("/", 303);
  });

  app.post("/enrol/later", { config: { access: "enrol" } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm(BUTTON_FORM, request.body);
    const outcome = await useGrace(deps, user, session, requestContext(deps, request));
    if (outcome.kind === "signed-out") return answerSignedOut(deps, reply);
    // A double click's loser: the other click moved the session on; the browser follows it. No `?done=`:
    // advanceSession's "moved" (the other click's step), not endHalfSignedIn's (a sign-in completed).
    if (outcome.kind === "moved") return reply.redirect("/", 303);
    if (outcome.kind === "none-left") {
      const error = tr(deps, request).text("enrol.noMoreLater");
      return reply.code(409).type(HTML).send(enrolPage(tr(deps, request), config, { csrf: reply.generateCsrf(), error, later: await graceOffer(deps, user) }));
    }
    setSessionCookie(deps, reply, outcome);
    return reply.redirect(STEP_PATH[outcome.session.stage], 303);
  });
}
