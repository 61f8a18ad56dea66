import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { temporaryPasswordBarred } from "../../account/temporary-password.ts";
import { refusal } from "../../support/acting.ts";
import { checkIdentifiedRequest, type IdentifiedRequest } from "../../support/identified-request.ts";
import { resetOtpEmail } from "../../support/reset-email.ts";
import { changeRole, LAST_ADMIN } from "../../support/roles.ts";
import { searchUsers, SEARCH_MAX_LENGTH } from "../../support/search.ts";
import { unlockAccount } from "../../support/unlock.ts";
import { userOverview } from "../../support/user-overview.ts";
import type { User } from "../../users/users.ts";
import { HttpProblem } from "../errors.ts";
import { field, parseForm } from "../forms.ts";
import { searchPage } from "../pages/support-pages.ts";
import { waitingAddress } from "../../profile/waiting-address.ts";
import { resetConfirmPage, userPage, type UserPageView } from "../pages/support-user-pages.ts";
import { portalFrame } from "./portal.ts";
import { acting, IDENTIFIED_REQUEST_FORM, targetUser } from "./support-acting.ts";
import { supportAddressRoutes } from "./support-addresses.ts";
import { supportAttentionRoutes } from "./support-attention.ts";
import { supportAuditRoutes } from "./support-audit.ts";
import { supportNoticeRoutes } from "./support-notices.ts";
import { lifecycleDone, supportLifecycleRoutes } from "./support-lifecycle.ts";
import { supportFactorRoutes } from "./support-factors.ts";
import type { MessageKey } from "../../i18n/translator.ts";
import { askedPage } from "../../support/paging.ts";
import { checkedDoneNotice, ownEventClaim, tr, type CheckedDone } from "../reader.ts";
import type { OwnClaim } from "../../audit/own-events.ts";
import { requestProblems } from "./support-problems.ts";

const HTML = "text/html; charset=utf-8";

/**
 * What the user's page says after an action (`?done=`), in the support user's language; a disable's or an
 * enable's: lifecycleDone. Each action's words only after the reader's own event of it on this account
 * (ownEventClaim), so a link written by anyone makes the console claim nothing that did not happen.
 */
function userDone(deps: Deps, request: FastifyRequest, user: User): Record<string, MessageKey | CheckedDone> {
  const claim = (key: MessageKey, event: OwnClaim["event"], holds?: OwnClaim["holds"]) =>
    ownEventClaim(deps, request, key, { event, subject: user.login_id, holds });
  return {
    reset: claim("console.done.reset", "email.reset", (d) => d.previousEmail != null),
    // A reset that found no confirmed address (a colleague's reset first, or never enrolled) told nobody.
    "reset-untold": claim("console.done.resetUntold", "email.reset", (d) => d.previousEmail == null),
    unlocked: claim("console.done.unlocked", "unlock"),
    role: claim("console.done.role", "role.changed"),
    "role-unchanged": "console.done.roleUnchanged",
    // Said only when something was removed (a second click's event records nothing removed; the first's does).
    "factors-removed": claim("console.done.factorsRemoved", "factors.removed", (d) => Number(d.passkeys) > 0 || d.app === true || Number(d.recoveryCodes) > 0),
  };
}

/** SPEC item 8: the support console, for roles support and admin, behind the same two factors. */
export function supportRoutes(app: FastifyInstance, deps: Deps): void {
  const support = { config: { access: "support" as const } };
  // Changes to another account's access: the password again when the code is old, and counted (console-guard.ts).
  const stepUp = { config: { access: "support" as const, consoleWrite: "step-up" as const, consoleSection: "users" as const } };

  const target = (request: FastifyRequest) => targetUser(deps, request);

  async function renderUser(request: FastifyRequest, reply: FastifyReply, user: User, status: number, extra: Partial<UserPageView>) {
    const by = acting(request);
    const frame = await portalFrame(deps, request, reply);
    const resetRefused = refusal(by, user, "reset");
    const disableRefused = refusal(by, user, "disable");
    const view: UserPageView = {
      canReset: resetRefused === null,
      canUnlock: refusal(by, user, "unlock") === null,
      canChangeRole: refusal(by, user, "role") === null,
      canDisable: disableRefused === null,
      // Said where the button would be unless the reset's refusal, shown above, says it already (an
      // administrator's account); their own account has words of its own for disabling and the password.
      disableRefused: disableRefused && disableRefused.message !== resetRefused?.message ? disableRefused.message : null,
      passwordRefused: refusal(by, user, "password")?.message ?? temporaryPasswordBarred(user),
      refusedWhy: resetRefused?.message ?? null,
      factorsRefused: refusal(by, user, "factors")?.message ?? null,
      ...extra,
    };
    return reply.code(status).type(HTML).send(userPage(frame, await userOverview(deps, user), view));
  }

  app.get("/support", support, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const q = typeof query.q === "string" ? query.q.slice(0, SEARCH_MAX_LENGTH) : "";
    const disabledOnly = query.disabled === "yes";
    const result = q.trim() || disabledOnly ? await searchUsers(deps.db, deps.dialect, q, askedPage(query.page), { disabledOnly }) : null;
    return reply.type(HTML).send(searchPage(await portalFrame(deps, request, reply), { query: q, result, disabledOnly }));
  });

  app.get("/support/users/:id", support, async (request, reply) => {
    const user = await target(request);
    const info = await checkedDoneNotice(deps, request, { ...userDone(deps, request, user), ...lifecycleDone(deps, user) });
    return renderUser(request, reply, user, 200, { info });
  });


  app.post("/support/users/:id/reset", support, async (request, reply) => {
    const user = await target(request);
    const form: IdentifiedRequest = parseForm(IDENTIFIED_REQUEST_FORM, request.body);
    const check = checkIdentifiedRequest(acting(request), user, form, "reset");
    if (!check.ok) {
      if (check.kind === "forbidden") throw new HttpProblem(403, check.message);
      return renderUser(request, reply, user, 400, { resetProblems: requestProblems(tr(deps, request), check), resetValues: form });
    }
    return reply.type(HTML).send(resetConfirmPage(await portalFrame(deps, request, reply), user, form, await waitingAddress(deps, user)));
  });

  app.post("/support/users/:id/reset/confirm", stepUp, async (request, reply) => {
    const user = await target(request);
    const form: IdentifiedRequest = parseForm(IDENTIFIED_REQUEST_FORM, request.body);
    const outcome = await resetOtpEmail(deps, acting(request), user.id, form);
    if (outcome.kind === "reset") return reply.redirect(`/support/users/${user.id}?done=${outcome.previousEmail ? "reset" : "reset-untold"}`, 303);
    if (outcome.kind === "not-found") throw new HttpProblem(404, "There is no such user.");
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    return renderUser(request, reply, user, 400, { resetProblems: requestProblems(tr(deps, request), outcome), resetValues: form });
  });

  app.post("/support/users/:id/unlock", stepUp, async (request, reply) => {
    const user = await target(request);
    parseForm({}, request.body);
    const outcome = await unlockAccount(deps, acting(request), user);
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    return reply.redirect(`/support/users/${user.id}?done=unlocked`, 303);
  });

  app.post("/support/users/:id/role", { config: { access: "admin", consoleWrite: "step-up", consoleSection: "users" } }, async (request, reply) => {
    const user = await target(request);
    const form = parseForm({ role: field(20) }, request.body);
    const outcome = await changeRole(deps, acting(request), user, form.role);
    if (outcome.kind === "not-found") throw new HttpProblem(404, "There is no such user.");
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    if (outcome.kind === "unknown-role") throw new HttpProblem(400, "Choose the role user, support or admin.");
    if (outcome.kind === "last-admin") throw new HttpProblem(409, LAST_ADMIN);
    return reply.redirect(`/support/users/${user.id}?done=${outcome.kind === "changed" ? "role" : "role-unchanged"}`, 303);
  });

  supportLifecycleRoutes(app, deps);
  supportAuditRoutes(app, deps);
  supportNoticeRoutes(app, deps);
  supportAddressRoutes(app, deps);
  supportAttentionRoutes(app, deps);
  supportFactorRoutes(app, deps);
}
