import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { isLocale, LOCALE_NAMES, LOCALES } from "../i18n/locales.ts";
import type { Translator } from "../i18n/translator.ts";
import { html, type SafeHtml } from "../platform/html.ts";
import { HttpProblem } from "./errors.ts";
import { field, formSchema, parseForm } from "./forms.ts";
import { requestIsHttps } from "./https.ts";
import { csrfField } from "./layout.ts";
import { acceptReturnTo } from "./return-to.ts";
import { languageCookieName, requestTranslator, tr } from "./reader.ts";

const LANGUAGE_FORM = formSchema({ locale: field(16), returnTo: field(2048).optional() });

export function registerLocale(app: FastifyInstance, deps: Deps): void {
  app.decorateRequest("t", null);
  // After the session hook: a signed-in user's saved choice wins.
  app.addHook("preHandler", async (request) => {
    request.t = requestTranslator(deps, request);
  });

  /** The sign-in page's language switch: remembered for this browser, then back to sign-in. */
  app.post("/language", { config: { access: "public" } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const form = parseForm(LANGUAGE_FORM, request.body);
    const returnTo = acceptReturnTo(deps, form.returnTo ?? null);
    const back = returnTo ? `/login?returnTo=${encodeURIComponent(returnTo)}` : "/login";
    if (!isLocale(form.locale)) throw new HttpProblem(400, tr(deps, request).text("language.unknown"));
    reply.setCookie(languageCookieName(deps, request), form.locale, {
      path: "/",
      httpOnly: true,
      sameSite: "lax",
      secure: requestIsHttps(deps.config, request),
      maxAge: 365 * 86_400,
    });
    return reply.redirect(back, 303);
  });
}

/** The switch on the sign-in page: one button per language, each named in its own language; no script. */
export function languageSwitch(t: Translator, csrf: string, returnTo?: string | null): SafeHtml {
  return html`<form method="post" action="/language" class="languages" aria-label="${t.text("language.switch")}">
  ${csrfField(csrf)}
  ${returnTo ? html`<input type="hidden" name="returnTo" value="${returnTo}">` : ""}
  <ul>${LOCALES.map((l) =>
    l === t.locale
      ? html`<li><span lang="${l}" aria-current="true">${LOCALE_NAMES[l]}</span></li>`
      : html`<li><button type="submit" name="locale" value="${l}" lang="${l}" class="link">${LOCALE_NAMES[l]}</button></li>`,
  )}</ul>
</form>`;
}
