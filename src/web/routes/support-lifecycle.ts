import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { createAccount } from "../../account/create.ts";
import { disableInForce, disableUser, enableUser, keepDisabled, wasSyncDisabled } from "../../account/disable.ts";
import { generateTemporaryPassword, setTemporaryPassword, staleTemporaryPasswordForm, temporaryPasswordBarred, temporaryPasswordFormStamp } from "../../account/temporary-password.ts";
import { disableEndedText } from "../../account/messages.ts";
import type { MessageKey, Translator } from "../../i18n/translator.ts";
import type { User } from "../../users/users.ts";
import { refusal } from "../../support/acting.ts";
import { LAST_ADMIN } from "../../support/roles.ts";
import { sharedWithOthers } from "../../users/shared-address.ts";
import { checkIdentifiedRequest } from "../../support/identified-request.ts";
import { HttpProblem } from "../errors.ts";
import type { CheckedDone } from "../reader.ts";
import { field, formSchema, parseForm } from "../forms.ts";
import {
  disableConfirmPage,
  newUserPage,
  temporaryPasswordConfirmPage,
  temporaryPasswordPage,
  temporaryPasswordShownPage,
  temporaryPasswordStalePage,
  type TemporaryPasswordRequest,
} from "../pages/support-lifecycle-pages.ts";
import { portalFrame, portalFrameAfterCommit } from "./portal.ts";
import { acting, IDENTIFIED_REQUEST_FORM, targetUser } from "./support-acting.ts";
import { requestProblems, saidSentence } from "./support-problems.ts";

const HTML = "text/html; charset=utf-8";

/**
 * What the user's page says after a disable, a "Keep disabled" or an enable (`?done=`, checkedDoneNotice): each
 * claim about the account said only while the account is so now, so a link written by anyone cannot make
 * the console claim one (a disable's counts read from its audit event: disabledDoneText).
 */
export function lifecycleDone(deps: Deps, user: User): Record<string, MessageKey | CheckedDone> {
  const disabled = user.disabled_at !== null;
  const when = (holds: boolean, key: MessageKey) => async (t: Translator) => (holds ? t.text(key) : undefined);
  return {
    disabled: (t) => disabledDoneText(deps, t, user),
    kept: (t) => disabledDoneText(deps, t, user),
    enabled: async (t) => (disabled ? undefined : enabledDoneText(deps, t, user)),
    "already-disabled": when(disabled, "console.done.alreadyDisabled"),
    "already-enabled": when(!disabled, "console.done.alreadyEnabled"),
    // "Keep disabled" on one no longer disabled by a sync (enabled, or kept by a colleague or a first click meanwhile).
    "keep-unchanged": async (t) => ((await wasSyncDisabled(deps.db, user)) ? t.text("console.done.keepUnchanged") : undefined),
  };
}

/**
 * The page after an enable (`?done=enabled`): when its OTP email is another enabled login ID's too (a
 * successor took the leaver's mailbox meanwhile), it says so. Read from the accounts as they are now.
 */
async function enabledDoneText(deps: Deps, t: Translator, user: User): Promise<string> {
  const shared = user.otp_email !== null && (await sharedWithOthers(deps, user.otp_email, user.id));
  return shared ? `${t.text("console.done.enabled")} ${t.text("console.done.enabledShared")}` : t.text("console.done.enabled");
}

/**
 * The page after a disable (`?done=disabled`) or a "Keep disabled" (`?done=kept`) says what it ended in
 * the words of the command line (disableEndedText), as the disable's latest audit event recorded it, or
 * that the account is kept disabled (that event's `kept`: nothing ended, no count to say); the address
 * says only which page this is, so a link written by anyone cannot make the console claim a disable,
 * a keep, or counts. A user not disabled (a crafted link, or enabled since): nothing is said.
 */
async function disabledDoneText(deps: Deps, t: Translator, user: User): Promise<string | undefined> {
  const said = await disableInForce(deps.db, user);
  if (said === undefined) return undefined;
  if (said === null) return t.text("console.done.disabledUncounted");
  return "kept" in said ? t.text("console.done.kept") : t.text("console.done.disabled", { ended: disableEndedText(t, said) });
}

/** A disabled account gets no temporary password (account/temporary-password.ts says why): 409, nothing done. */
function refuseIfBarred(user: User): void {
  const barred = temporaryPasswordBarred(user);
  if (barred) throw new HttpProblem(409, barred);
}

/**
 * Both steps of "Set a temporary password": the identified request and the form's stamp
 * (account/temporary-password.ts). One without a stamp is out of date, after the access rule's 403.
 */
const TEMPORARY_PASSWORD_SCHEMA = formSchema({ ...IDENTIFIED_REQUEST_FORM, formStamp: field(64).optional() });
function temporaryPasswordForm(body: unknown): TemporaryPasswordRequest {
  const form = parseForm(TEMPORARY_PASSWORD_SCHEMA, body);
  return { ...form, formStamp: form.formStamp ?? "" };
}

const newUserShape = { loginId: field(200), fullName: field(200), partnerNumber: field(200), role: field(20), email: field(254) };

/** Console actions of issue 11: disable, enable, set a temporary password, create a user. */
export function supportLifecycleRoutes(app: FastifyInstance, deps: Deps): void {
  const support = { config: { access: "support" as const } };
  // Each changes another account's access (or makes one): console-guard.ts's step-up, and counted.
  const stepUp = { config: { access: "support" as const, consoleWrite: "step-up" as const, consoleSection: "users" as const } };

  const target = (request: FastifyRequest) => targetUser(deps, request);

  // The question before a disable; the same rule as the action itself (acting.ts, "disable").
  app.get("/support/users/:id/disable", support, async (request, reply) => {
    const user = await target(request);
    const refused = refusal(acting(request), user, "disable");
    if (refused) throw new HttpProblem(403, refused.message);
    if (user.disabled_at !== null) return reply.redirect(`/support/users/${user.id}?done=already-disabled`, 303);
    return reply.type(HTML).send(disableConfirmPage(await portalFrame(deps, request, reply), user));
  });

  for (const action of ["disable", "enable"] as const) {
    app.post(`/support/users/:id/${action}`, stepUp, async (request, reply) => {
      const user = await target(request);
      parseForm({}, request.body);
      const outcome = action === "disable" ? await disableUser(deps, acting(request), user.id) : await enableUser(deps, acting(request), user.id);
      if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
      if (outcome.kind === "not-found") throw new HttpProblem(404, "There is no such user.");
      // As the role form's (support.ts): said in the reader's language by the catalogue's "said." key.
      if (outcome.kind === "last-admin") throw new HttpProblem(409, LAST_ADMIN);
      // A Disable posted for one an import --sync disabled keeps it (setDisabled's `kept`): said as "Keep disabled" says it.
      const done = outcome.kind === "unchanged" ? (outcome.kept === true ? "kept" : `already-${action}d`) : outcome.kind;
      return reply.redirect(`/support/users/${user.id}?done=${done}`, 303);
    });
  }

  // "Keep disabled": one an import --sync disabled becomes a person's disable (account/disable.ts keepDisabled).
  app.post("/support/users/:id/keep-disabled", stepUp, async (request, reply) => {
    const user = await target(request);
    parseForm({}, request.body);
    const outcome = await keepDisabled(deps, acting(request), user.id);
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    if (outcome.kind === "not-found") throw new HttpProblem(404, "There is no such user.");
    const kept = outcome.kind === "unchanged" && outcome.kept === true;
    return reply.redirect(`/support/users/${user.id}?done=${kept ? "kept" : "keep-unchanged"}`, 303);
  });

  app.get("/support/users/:id/temporary-password", support, async (request, reply) => {
    const user = await target(request);
    const refused = refusal(acting(request), user, "password");
    if (refused) throw new HttpProblem(403, refused.message);
    refuseIfBarred(user);
    const formStamp = temporaryPasswordFormStamp(deps.keys, acting(request), user);
    return reply.type(HTML).send(temporaryPasswordPage(await portalFrame(deps, request, reply), user, { formStamp }));
  });

  // The request is checked as an OTP email reset is (identity, ticket), under acting.ts's rule for "password".
  app.post("/support/users/:id/temporary-password", support, async (request, reply) => {
    const user = await target(request);
    const form = temporaryPasswordForm(request.body);
    const check = checkIdentifiedRequest(acting(request), user, form, "password");
    if (!check.ok && check.kind === "forbidden") throw new HttpProblem(403, check.message);
    refuseIfBarred(user);
    const frame = await portalFrame(deps, request, reply);
    if (!check.ok) return reply.code(400).type(HTML).send(temporaryPasswordPage(frame, user, form, requestProblems(frame.t, check)));
    // Said before the confirmation: the rule setTemporaryPassword applies in its transaction, in the same order.
    const stale = staleTemporaryPasswordForm(deps.keys, acting(request), user, form.formStamp, deps.clock.now());
    if (stale) return reply.code(409).type(HTML).send(temporaryPasswordStalePage(frame, user, stale.setAt));
    return reply.type(HTML).send(temporaryPasswordConfirmPage(frame, user, form, deps.config.lifecycle.temporaryPasswordTtlMs));
  });

  app.post("/support/users/:id/temporary-password/confirm", stepUp, async (request, reply) => {
    const user = await target(request);
    const form = temporaryPasswordForm(request.body);
    const by = acting(request);
    const check = checkIdentifiedRequest(by, user, form, "password");
    if (!check.ok && check.kind === "forbidden") throw new HttpProblem(403, check.message);
    refuseIfBarred(user);
    const frame = await portalFrame(deps, request, reply);
    if (!check.ok) return reply.code(400).type(HTML).send(temporaryPasswordPage(frame, user, form, requestProblems(frame.t, check)));
    const password = generateTemporaryPassword(deps.random);
    const outcome = await setTemporaryPassword(deps, by, user.id, password, check.ticket, form.formStamp);
    if (outcome.kind === "stale") return reply.code(409).type(HTML).send(temporaryPasswordStalePage(frame, user, outcome.setAt));
    if (outcome.kind === "not-found") throw new HttpProblem(404, "There is no such user.");
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    if (outcome.kind === "disabled") throw new HttpProblem(409, outcome.message);
    if (outcome.kind === "invalid") throw new Error(`a generated temporary password was refused: ${outcome.message}`);
    return reply.type(HTML).send(temporaryPasswordShownPage(frame, user, password, outcome.expiresAt, false));
  });

  app.get("/support/users/new", support, async (request, reply) => {
    const frame = await portalFrame(deps, request, reply);
    return reply.type(HTML).send(newUserPage(frame, { values: {}, isAdmin: acting(request).user?.role === "admin" }));
  });

  app.post("/support/users/new", stepUp, async (request, reply) => {
    const form = parseForm(newUserShape, request.body);
    const by = acting(request);
    const outcome = await createAccount(deps, by, form);
    // A created account's temporary password is shown this once: its page does not wait on the frame's extras.
    const frame = outcome.kind === "created" ? await portalFrameAfterCommit(deps, request, reply) : await portalFrame(deps, request, reply);
    const isAdmin = by.user?.role === "admin";
    switch (outcome.kind) {
      case "created":
        return reply.type(HTML).send(temporaryPasswordShownPage(frame, outcome.user, outcome.password, outcome.expiresAt, true));
      case "forbidden":
        throw new HttpProblem(403, outcome.message);
      case "exists": {
        const problems = new Map([["loginId", frame.t.text("console.problem.exists", { loginId: form.loginId.trim() })]]);
        return reply.code(409).type(HTML).send(newUserPage(frame, { values: form, isAdmin, problems }));
      }
      case "invalid": {
        const problems = new Map(outcome.problems.map((p) => [p.field, saidSentence(frame.t, p.message)]));
        return reply.code(400).type(HTML).send(newUserPage(frame, { values: form, isAdmin, problems }));
      }
    }
  });
}
