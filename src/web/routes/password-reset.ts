import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { completePasswordReset, resetState, sendResetCode, type ResetState } from "../../password-reset/reset.ts";
import { tr } from "../reader.ts";
import { requestContext, staleFormInfo, staleFormPath } from "../auth.ts";
import { requestIsHttps } from "../https.ts";
import { field, formSchema, parseForm } from "../forms.ts";
import { forgotPasswordPage, forgotPasswordSupportPage, resetPasswordPage } from "../pages/account-pages.ts";
import { pauseEnd } from "../pause-messages.ts";
import { rateLimited } from "../rate-limit.ts";
import { securityCookie, securityCookieName } from "../security-cookie.ts";

const HTML = "text/html; charset=utf-8";
/** `__Host-famos_reset` under HTTPS (so Path=/): no sibling host can plant its own signed reset state. */
const cookieName = (https: boolean) => securityCookieName("famos_reset", https);
const START_FORM = formSchema({ loginId: field(256) });
const RESET_FORM = formSchema({ code: field(64), newPassword: field(), confirmNewPassword: field() });

/** "Forgot password?" (issue 11): a way to retail IT, or with FAMOS_PASSWORD_RESET=self the reset by code. */
export function passwordResetRoutes(app: FastifyInstance, deps: Deps): void {
  const { config } = deps;
  const self = config.lifecycle.passwordReset === "self";
  const limited = rateLimited(deps);
  const cookieOptions = (request: FastifyRequest) => ({
    path: "/",
    httpOnly: true,
    sameSite: "lax" as const,
    secure: requestIsHttps(config, request),
    signed: true,
    maxAge: Math.ceil(config.otp.ttlMs / 1000),
  });
  /** The signed cookie's state, or null (missing, named twice, tampered with, or from before a restart with a new secret). */
  const state = (request: FastifyRequest): ResetState | null => {
    const raw = securityCookie(request, cookieName(requestIsHttps(config, request)));
    const unsigned = raw ? request.unsignCookie(raw) : null;
    if (!unsigned?.valid || !unsigned.value) return null;
    const [flowId, loginKey] = [unsigned.value.slice(0, unsigned.value.indexOf(":")), unsigned.value.slice(unsigned.value.indexOf(":") + 1)];
    return flowId && loginKey ? { flowId, loginKey } : null;
  };
  /** `code`: the code typed, shown again when it was not tried (a new password refused first). */
  const resetPage = (reply: FastifyReply, status: number, error?: string, code?: string) => {
    const t = tr(deps, reply.request);
    const info = error ? undefined : staleFormInfo(t, reply.request);
    return reply.code(status).type(HTML).send(resetPasswordPage(t, config, { csrf: reply.generateCsrf(), validFor: t.duration(config.otp.ttlMs), error, info, code }));
  };
  // A form of these pages refused as open too long (auth.ts signInForStaleForm) comes back to its page.
  const startPage = "/forgot-password";
  const codePage = "/forgot-password/code";

  app.get(startPage, { config: { access: "public" } }, async (request, reply) => {
    const t = tr(deps, request);
    return reply.type(HTML).send(self ? forgotPasswordPage(t, config, { csrf: reply.generateCsrf(), info: staleFormInfo(t, request) }) : forgotPasswordSupportPage(t, config));
  });

  // With FAMOS_PASSWORD_RESET=support the reset by code does not exist at all.
  if (!self) return;

  app.post(startPage, { config: { access: "public", formPage: startPage, ...limited } }, async (request, reply) => {
    const form = parseForm(START_FORM, request.body);
    // Answered before anything about the login ID is read: for an account the work (a transaction and
    // a mail) follows the answer, so the answer's time does not tell who exists (SPEC item 1).
    const state = resetState(deps, form.loginId);
    // Nothing typed (or only spaces): said on the same form, as every other form does; it tells nothing about accounts.
    if (state.loginKey === "") {
      const t = tr(deps, request);
      return reply.code(400).type(HTML).send(forgotPasswordPage(t, config, { csrf: reply.generateCsrf(), error: t.text("forgot.loginIdMissing") }));
    }
    const ctx = requestContext(deps, request);
    app.afterReply.run(reply, "the password reset's code", () => sendResetCode(deps, state, ctx));
    reply.setCookie(cookieName(requestIsHttps(config, request)), `${state.flowId}:${state.loginKey}`, cookieOptions(request));
    return reply.redirect(codePage, 303);
  });

  app.get(codePage, { config: { access: "public" } }, async (request, reply) => {
    // Its reset gone meanwhile (the cookie lasts as long as a code): the first step, still saying why it was left.
    if (!state(request)) return reply.redirect(staleFormInfo(tr(deps, request), request) ? staleFormPath(startPage) : startPage, 303);
    return resetPage(reply, 200);
  });

  app.post(codePage, { config: { access: "public", formPage: codePage, ...limited } }, async (request, reply) => {
    const current = state(request);
    const form = parseForm(RESET_FORM, request.body);
    // The reset lapsed while the page was open (its cookie lasts as long as the code): nothing done; the first step says why.
    if (!current) return reply.redirect(staleFormPath(startPage), 303);
    const outcome = await completePasswordReset(deps, current, form, requestContext(deps, request));
    switch (outcome.kind) {
      case "reset":
        reply.clearCookie(cookieName(requestIsHttps(config, request)), cookieOptions(request));
        return reply.redirect("/login?reset=1", 303);
      case "invalid":
        // The new password was refused before the code was tried (or the code was left unused): the
        // code still works, so it stays in its field; the passwords are never sent back.
        return resetPage(reply, 400, tr(deps, request).said(outcome.message), form.code.slice(0, 64));
      case "code-refused":
        return resetPage(reply, 400, tr(deps, request).text("reset.codeRefused"));
      case "locked":
        return resetPage(
          reply,
          429,
          outcome.until === null
            ? tr(deps, request).text("reset.hardLocked")
            : tr(deps, request).text("reset.locked", { at: pauseEnd(tr(deps, request), outcome.until) }),
        );
    }
  });
}
