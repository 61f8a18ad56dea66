import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { isLocale, LOCALE_NAMES, LOCALES } from "../i18n/locales.ts";
import type { Translator } from "../i18n/translator.ts";
import { html, type SafeHtml } from "../platform/html.ts";
import { requestIsHttps } from "./https.ts";
import { languageCookieName, requestTranslator } from "./reader.ts";

export function registerLocale(app: FastifyInstance, deps: Deps): void {
  app.decorateRequest("t", null);
  // After the session hook: a signed-in user's saved choice wins.
  app.addHook("preHandler", (request, _reply, done) => {
    request.t = requestTranslator(deps, request);
    done();
  });
}

/**
 * The sign-in page's language switch: plain links (`/login?lang=fr`), no script and no form, since
 * choosing a language changes nothing but the words: a cross-site link can at most show FAMOS in
 * another of its languages. The choice is remembered for this browser (HttpOnly, SameSite=Lax, a
 * year). Returns where to send the browser next, or "unknown" for a language FAMOS does not have.
 */
export function chooseLanguage(deps: Pick<Deps, "config">, request: FastifyRequest, reply: FastifyReply, returnTo: string | null): string | "unknown" | null {
  const query = request.query as Record<string, unknown>;
  if (query.lang === undefined) return null;
  if (!isLocale(query.lang)) return "unknown";
  reply.setCookie(languageCookieName(deps, request), query.lang, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure: requestIsHttps(deps.config, request),
    maxAge: 365 * 86_400,
  });
  return returnTo ? `/login?returnTo=${encodeURIComponent(returnTo)}` : "/login";
}

/** The switch on the sign-in page: one link per language, each named in its own language. */
export function languageSwitch(t: Translator, returnTo?: string | null): SafeHtml {
  const href = (l: string) => `/login?lang=${l}${returnTo ? `&returnTo=${encodeURIComponent(returnTo)}` : ""}`;
  return html`<nav class="languages" aria-label="${t.text("language.switch")}">
  <ul>${LOCALES.map((l) =>
    l === t.locale
      ? html`<li><span lang="${l}" aria-current="true">${LOCALE_NAMES[l]}</span></li>`
      : html`<li><a href="${href(l)}" hreflang="${l}" lang="${l}">${LOCALE_NAMES[l]}</a></li>`,
  )}</ul>
</nav>`;
}
