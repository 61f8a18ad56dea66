import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import type { Database } from "../store/schema.ts";
import { canonicalTimeZone, isLocale, type Locale } from "../i18n/locales.ts";
import type { User } from "./users.ts";

/**
 * What users.locale holds for a user who chose Profile's "As the browser asks": no language (every
 * reader asks isLocale, so pages follow the browser), yet a choice, which no sign-in replaces. Null
 * is "never chosen", which a sign-in or an enrolment fills with the browser's language.
 */
export const FOLLOW_BROWSER = "browser";

/**
 * Issue 16: at a sign-in with the right password and at enrolment the browser's language becomes the
 * user's, so the code mail and every later mail are written in it. A choice already saved (on
 * Profile, "As the browser asks" included: FOLLOW_BROWSER) is kept. `withBrowserLocale` is the user as
 * the step's own mail sees them; `saveBrowserLocale` stores it in the transaction that settles the
 * step (refused input stores nothing; an accepted one is never answered 503 over its language).
 */
export function withBrowserLocale(user: User, locale: Locale): User {
  return isLocale(user.locale) ? user : { ...user, locale };
}

export async function saveBrowserLocale(db: Kysely<Database>, user: User, locale: Locale): Promise<User> {
  if (isLocale(user.locale)) return user;
  // Only where nothing was ever chosen; this step's own mail is in the browser's language either way.
  if ((user.locale ?? null) === null) await db.updateTable("users").set({ locale }).where("id", "=", user.id).where("locale", "is", null).execute();
  return { ...user, locale };
}

export type SettingsOutcome = { kind: "saved" } | { kind: "invalid"; field: "locale" | "timeZone" };

/**
 * Profile's "Language" and "Time zone": a shipped locale or none (follow the browser, stored as
 * FOLLOW_BROWSER so later sign-ins keep it), an IANA zone Intl knows, stored as Intl names it
 * (canonicalTimeZone: "europe/london" is "Europe/London"), or none (FAMOS_TIMEZONE).
 * Anything else changes nothing.
 */
export async function saveUserSettings(
  deps: Pick<Deps, "db" | "clock">,
  user: User,
  input: { locale: string; timeZone: string },
): Promise<SettingsOutcome> {
  if (input.locale !== "" && !isLocale(input.locale)) return { kind: "invalid", field: "locale" };
  const timeZone = input.timeZone === "" ? null : canonicalTimeZone(input.timeZone);
  if (input.timeZone !== "" && timeZone === null) return { kind: "invalid", field: "timeZone" };
  await deps.db
    .updateTable("users")
    .set({ locale: input.locale === "" ? FOLLOW_BROWSER : input.locale, time_zone: timeZone, updated_at: deps.clock.now() })
    .where("id", "=", user.id)
    .execute();
  return { kind: "saved" };
}
