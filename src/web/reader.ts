import type { FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { isLocale, negotiateLocale, readerTimeZone, type Locale } from "../i18n/locales.ts";
import { translator, type MessageKey, type Translator } from "../i18n/translator.ts";
import { requestIsHttps } from "./https.ts";
import { ownRecentEvents, type OwnClaim } from "../audit/own-events.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The reader's language and time zone for this request (issue 16); see requestTranslator. */
    t: Translator | null;
  }
}

/**
 * The signed-out visitor's language choice from the sign-in page's switch. Not a secret and not
 * authority: it only picks the words. HttpOnly, SameSite=Lax, a year long; __Host- under HTTPS so a
 * sibling host cannot set it.
 */
export function languageCookieName(deps: Pick<Deps, "config">, request: FastifyRequest): string {
  return requestIsHttps(deps.config, request) ? "__Host-famos_lang" : "famos_lang";
}

/**
 * The language of a request: the signed-in user's saved choice, else the language chosen on the
 * sign-in page (cookie), else the browser's Accept-Language, else FAMOS_DEFAULT_LOCALE. The time
 * zone: the user's saved zone, else FAMOS_TIMEZONE.
 */
export function requestLocale(deps: Pick<Deps, "config">, request: FastifyRequest): Locale {
  const saved = request.famos?.user.locale;
  return isLocale(saved) ? saved : (browserLocale(deps, request) ?? deps.config.defaultLocale);
}

/**
 * The language the browser itself asks for, whoever is signed in on it: the sign-in page's choice
 * (cookie), else Accept-Language; null when it asks for none FAMOS has. What a sign-in saves for a
 * user who has none (a colleague's saved choice, of the session the sign-in replaces, is not this
 * browser's; FAMOS_DEFAULT_LOCALE is nobody's choice).
 */
export function browserLocale(deps: Pick<Deps, "config">, request: FastifyRequest): Locale | null {
  const chosen = request.cookies?.[languageCookieName(deps, request)];
  if (isLocale(chosen)) return chosen;
  const header = request.headers["accept-language"];
  return negotiateLocale(typeof header === "string" ? header : undefined) ?? null;
}

export function requestTranslator(deps: Pick<Deps, "config">, request: FastifyRequest): Translator {
  if (request.t) return request.t;
  return translator(requestLocale(deps, request), readerTimeZone(request.famos?.user.time_zone, deps.config.timezone));
}

/** The translator a route renders with (set once the session is loaded; see registerLocale). */
export function tr(deps: Pick<Deps, "config">, request: FastifyRequest): Translator {
  return request.t ?? requestTranslator(deps, request);
}

/** Words for a `?done=` claim the records can check, read as they are now: undefined (nothing said) when it is not true. */
export type CheckedDone = (t: Translator) => Promise<string | undefined>;

/**
 * A page's words for what was just done (`?done=KEY`), in the reader's language: only a key of the page's own
 * table names words, so the address carries no text of its own to show (nothing reflected); a key whose claim
 * the records can check (CheckedDone) says its words only when true, so a link written by anyone makes the page
 * say only what happened. The one place that decides to say them.
 */
export async function checkedDoneNotice(
  deps: Pick<Deps, "config">,
  request: FastifyRequest,
  table: Readonly<Record<string, MessageKey | CheckedDone>>,
): Promise<string | undefined> {
  const done = doneKey(request, table);
  if (done === undefined) return undefined;
  const words = table[done]!;
  return typeof words === "function" ? words(tr(deps, request)) : tr(deps, request).text(words);
}

/**
 * A `?done=` claim of an action (CheckedDone): `key`'s words only when the signed-in reader's own event says
 * it happened, within DONE_CLAIM_MS (ownRecentEvents, the one check every page's claim makes).
 */
export function ownEventClaim(deps: Pick<Deps, "db" | "clock">, request: FastifyRequest, key: MessageKey, claim: Omit<OwnClaim, "actor">): CheckedDone {
  return async (t) => {
    const actor = request.famos?.user.login_id;
    if (actor === undefined) return undefined;
    return (await ownRecentEvents(deps.db, deps.clock.now(), { ...claim, actor })) ? t.text(key) : undefined;
  };
}

/** The one lookup of `?done=`: a key of the page's own table (not an inherited name such as "toString"), given once. */
function doneKey(request: FastifyRequest, table: Readonly<Record<string, unknown>>): string | undefined {
  const done = (request.query as Record<string, unknown>).done;
  return typeof done === "string" && Object.hasOwn(table, done) ? done : undefined;
}
