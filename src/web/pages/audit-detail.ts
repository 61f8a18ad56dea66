import type { MessageKey, Translator } from "../../i18n/translator.ts";
import { maskEmail, maskEmailsIn } from "../../platform/format.ts";
import { showHiddenCharacters } from "../../users/fields.ts";
import { zonedDateTime } from "./support-pages.ts";

/** The audit record's detail field names, each with its words in the reader's language (en-GB: the name itself, as README lists it). */
const DETAIL_KEYS = {
  purpose: "console.detail.key.purpose",
  reason: "console.detail.key.reason",
  pause: "console.detail.key.pause",
  during: "console.detail.key.during",
  typed: "console.detail.key.typed",
  result: "console.detail.key.result",
  kind: "console.detail.key.kind",
  scope: "console.detail.key.scope",
  failures: "console.detail.key.failures",
  until: "console.detail.key.until",
  wasLocked: "console.detail.key.wasLocked",
  permanent: "console.detail.key.permanent",
  passwordFailures: "console.detail.key.passwordFailures",
  codeFailures: "console.detail.key.codeFailures",
  resetFailures: "console.detail.key.resetFailures",
  devicesLocked: "console.detail.key.devicesLocked",
  address: "console.detail.key.address",
  sessionsEnded: "console.detail.key.sessionsEnded",
  devicesForgotten: "console.detail.key.devicesForgotten",
  codesVoided: "console.detail.key.codesVoided",
  others: "console.detail.key.others",
  session: "console.detail.key.session",
  ticket: "console.detail.key.ticket",
  code: "console.detail.key.code",
  bounce: "console.detail.key.bounce",
  status: "console.detail.key.status",
  to: "console.detail.key.to",
  from: "console.detail.key.from",
  mail: "console.detail.key.mail",
  undeliverable: "console.detail.key.undeliverable",
  forwardedTo: "console.detail.key.forwardedTo",
  previousEmail: "console.detail.key.previousEmail",
  source: "console.detail.key.source",
  line: "console.detail.key.line",
} as const satisfies Record<string, MessageKey>;

/** FAMOS's own enumerated detail values (a purpose, a reason, a lock's scope, a bounce's kind), and true and false. */
const DETAIL_VALUES = {
  signin: "console.detail.value.signin",
  enrol: "console.detail.value.enrol",
  "email-change": "console.detail.value.email-change",
  "password-reset": "console.detail.value.password-reset",
  "password-change": "console.detail.value.password-change",
  "factor-change": "console.detail.value.factor-change",
  "console-step-up": "console.detail.value.console-step-up",
  setup: "console.detail.value.setup",
  "wrong-password": "console.detail.value.wrong-password",
  "unknown-login-id": "console.detail.value.unknown-login-id",
  locked: "console.detail.value.locked",
  busy: "console.detail.value.busy",
  "account-changing": "console.detail.value.account-changing",
  disabled: "console.detail.value.disabled",
  "temporary-password-expired": "console.detail.value.temporary-password-expired",
  "temporary-password-used": "console.detail.value.temporary-password-used",
  "two-factor-required": "console.detail.value.two-factor-required",
  wrong: "console.detail.value.wrong",
  "login-id": "console.detail.value.login-id",
  device: "console.detail.value.device",
  address: "console.detail.value.address",
  "login-id-until-unlocked": "console.detail.value.login-id-until-unlocked",
  "device-until-unlocked": "console.detail.value.device-until-unlocked",
  expired: "console.detail.value.expired",
  void: "console.detail.value.void",
  used: "console.detail.value.used",
  "no-code": "console.detail.value.no-code",
  password: "console.detail.value.password",
  code: "console.detail.value.code",
  reset: "console.detail.value.reset",
  sent: "console.detail.value.sent",
  "hour-cap": "console.detail.value.hour-cap",
  "attempt-cap": "console.detail.value.attempt-cap",
  wait: "console.detail.value.wait",
  hard: "console.detail.value.hard",
  soft: "console.detail.value.soft",
  import: "console.detail.value.import",
  sync: "console.detail.value.sync",
  true: "console.detail.value.true",
  false: "console.detail.value.false",
} as const satisfies Record<string, MessageKey>;

/** The fields whose string values are FAMOS's own words; any other field's text (an address, a ticket, a login ID typed) came from outside. */
const ENUMERATED = new Set(["purpose", "reason", "pause", "during", "result", "kind", "scope", "code", "bounce", "source"]);

/** A mail server's or a webhook's reason is its own words, whatever they look like. */
const outsideReason = (event: string | undefined, key: string) => key === "reason" && event?.startsWith("mail.") === true;

function known<T extends object>(table: T, name: string): T[keyof T] | undefined {
  return Object.hasOwn(table, name) ? table[name as keyof T] : undefined;
}

function valueText(t: Translator, event: string | undefined, key: string, value: unknown, forward: boolean): string {
  if (typeof value === "number" && value > 1e12 && /(until|at)$/i.test(key)) return zonedDateTime(t, value);
  if (typeof value === "boolean") return t.text(value ? "console.detail.value.true" : "console.detail.value.false");
  if (typeof value !== "string") return JSON.stringify(value);
  if (/^[^\s@]+@[^\s@]+$/.test(value)) return maskEmail(value);
  // A forward's report (its detail has forwardedTo) names a third person's mailbox in its words and beside a display name.
  const text = forward ? maskEmailsIn(value) : value;
  const own = ENUMERATED.has(key) && !outsideReason(event, key) ? known(DETAIL_VALUES, text) : undefined;
  return own === undefined ? showHiddenCharacters(text) : t.text(own);
}

/**
 * An audit record's detail as the console shows it: "key: value" pairs, the field names and FAMOS's own
 * enumerated values in the reader's language (the persona walk: "purpose: signin" on a German page);
 * times (ms since the epoch under keys such as "until") shown as times; email addresses (an email
 * change's `to` and `from`, a reset's `previousEmail`) masked as everywhere else on the console
 * (issue 19.7), and in a forward's report (mail.forward-bounced: its detail has `forwardedTo`) every
 * address inside its values too (maskEmailsIn); other words from outside as stored, hidden characters
 * shown. The CSV export and `famos audit` keep the record as it is.
 */
export function detailText(t: Translator, detail: Record<string, unknown>, event?: string): string {
  const forward = "forwardedTo" in detail;
  return Object.entries(detail)
    .map(([key, value]) => {
      const name = known(DETAIL_KEYS, key);
      return t.text("console.detail.pair", { key: name === undefined ? showHiddenCharacters(key) : t.text(name), value: valueText(t, event, key, value, forward) });
    })
    .join(", ");
}
