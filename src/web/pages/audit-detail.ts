import type { MessageKey, Translator } from "../../i18n/translator.ts";
import { maskEmail, maskMailbox } from "../../platform/format.ts";
import { maskEmailsIn } from "../../platform/mask-emails.ts";
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
  rightPassword: "console.detail.key.rightPassword",
  via: "console.detail.key.via",
  role: "console.detail.key.role",
  emailGiven: "console.detail.key.emailGiven",
  contactGiven: "console.detail.key.contactGiven",
  kept: "console.detail.key.kept",
  sharedMailbox: "console.detail.key.sharedMailbox",
  events: "console.detail.key.events",
  user: "console.detail.key.user",
  event: "console.detail.key.event",
  since: "console.detail.key.since",
  removed: "console.detail.key.removed",
  pseudonymised: "console.detail.key.pseudonymised",
  partner: "console.detail.key.partner",
  startsAt: "console.detail.key.startsAt",
  passwordOnlyEnded: "console.detail.key.passwordOnlyEnded",
  limit: "console.detail.key.limit",
  windowMs: "console.detail.key.windowMs",
  action: "console.detail.key.action",
  notice: "console.detail.key.notice",
  title: "console.detail.key.title",
  with: "console.detail.key.with",
  confirmed: "console.detail.key.confirmed",
  why: "console.detail.key.why",
  name: "console.detail.key.name",
  deviceType: "console.detail.key.deviceType",
  backedUp: "console.detail.key.backedUp",
  credential: "console.detail.key.credential",
  left: "console.detail.key.left",
  pendingEmail: "console.detail.key.pendingEmail",
  passkeys: "console.detail.key.passkeys",
  app: "console.detail.key.app",
  recoveryCodes: "console.detail.key.recoveryCodes",
  changed: "console.detail.key.changed",
  by: "console.detail.key.by",
} as const satisfies Record<string, MessageKey>;

/** FAMOS's own enumerated detail values (a purpose, a reason, a lock's scope, a bounce's kind, an outbox kind, a role), and true and false. */
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
  console: "console.detail.value.console",
  "temporary-password": "console.detail.value.temporary-password",
  request: "console.detail.value.request",
  app: "console.detail.value.app",
  passkey: "console.detail.value.passkey",
  singleDevice: "console.detail.value.singleDevice",
  multiDevice: "console.detail.value.multiDevice",
  invalid: "console.detail.value.invalid",
  "not-verified": "console.detail.value.not-verified",
  "unknown-passkey": "console.detail.value.unknown-passkey",
  "counter-regressed": "console.detail.value.counter-regressed",
  "backup-eligibility-changed": "console.detail.value.backup-eligibility-changed",
  replaced: "console.detail.value.replaced",
  "no-flow": "console.detail.value.no-flow",
  ok: "console.detail.value.ok",
  default: "console.detail.value.default",
  "code.signin": "console.detail.value.code.signin",
  "code.enrol": "console.detail.value.code.enrol",
  "code.email-change": "console.detail.value.code.email-change",
  "code.password-reset": "console.detail.value.code.password-reset",
  lock: "console.detail.value.lock",
  "notice.code-reused": "console.detail.value.notice.code-reused",
  "notice.email-changed": "console.detail.value.notice.email-changed",
  "notice.email-reset": "console.detail.value.notice.email-reset",
  "notice.factor-changed": "console.detail.value.notice.factor-changed",
  "notice.factors-removed": "console.detail.value.notice.factors-removed",
  "notice.password-changed": "console.detail.value.notice.password-changed",
  "notice.password-reset": "console.detail.value.notice.password-reset",
  "notice.recovery-code-used": "console.detail.value.notice.recovery-code-used",
  "notice.temporary-password": "console.detail.value.notice.temporary-password",
  "rollout.announcement": "console.detail.value.rollout.announcement",
  user: "console.roleName.user",
  support: "console.roleName.support",
  admin: "console.roleName.admin",
  true: "console.detail.value.true",
  false: "console.detail.value.false",
} as const satisfies Record<string, MessageKey>;

/** The fields whose string values are FAMOS's own words; any other field's text (an address, a ticket, a login ID typed) came from outside. */
const ENUMERATED = new Set(["purpose", "reason", "pause", "during", "result", "kind", "scope", "code", "bounce", "source", "mail", "role", "from", "to", "with", "via", "by", "deviceType", "partner"]);

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A mail server's or a webhook's reason is its own words, whatever they look like. */
const outsideReason = (event: string | undefined, key: string) => key === "reason" && event?.startsWith("mail.") === true;

function known<T extends object>(table: T, name: string): T[keyof T] | undefined {
  return Object.hasOwn(table, name) ? table[name as keyof T] : undefined;
}

function valueText(t: Translator, event: string | undefined, key: string, value: unknown): string {
  if (typeof value === "number" && value > 1e12 && /(until|at)$/i.test(key)) return zonedDateTime(t, value);
  // A plan's start and an export's bounds are written as ISO 8601 text (rollout.planned's startsAt, audit.exported's since).
  if (typeof value === "string" && ISO_TIME.test(value) && /(until|since|at)$/i.test(key)) return zonedDateTime(t, Date.parse(value));
  if (typeof value === "boolean") return t.text(value ? "console.detail.value.true" : "console.detail.value.false");
  if (typeof value !== "string") return JSON.stringify(value);
  const own = ENUMERATED.has(key) && !outsideReason(event, key) ? known(DETAIL_VALUES, value) : undefined;
  return own === undefined ? showHiddenCharacters(value) : t.text(own);
}

/** One value as support reads it (maskedDetail). */
function maskedValue(event: string | undefined, key: string, value: string, forward: boolean): string {
  // The mailbox forwarded to: its address alone, masked; a display name with it is a third person's name.
  if (forward && key === "forwardedTo") return maskMailbox(value);
  if (/^[^\s@]+@[^\s@]+$/.test(value)) return maskEmail(value);
  // A forward's report (its detail has forwardedTo) names a third person's mailbox in its words; any relay's
  // reason may name the recipient, a postmaster or a colleague left as a contact.
  return forward || outsideReason(event, key) ? maskEmailsIn(value) : value;
}

/**
 * An audit record's detail as support reads it, on its pages (detailText) and in its CSV export (the one rule
 * of both): email addresses (an email change's `to` and `from`, a reset's `previousEmail`, a bounce's `to`)
 * masked as everywhere else on the console (issue 19.7); in a forward's report (mail.forward-bounced: its
 * detail has `forwardedTo`) the mailbox forwarded to masked without its display name (maskMailbox) and every
 * address inside its values masked too, as in any mail event's reason, a relay's words (maskEmailsIn). Other
 * values as stored. An administrator's CSV export and `famos audit` keep the record whole.
 */
export function maskedDetail(detail: Record<string, unknown>, event?: string): Record<string, unknown> {
  const forward = "forwardedTo" in detail;
  return Object.fromEntries(Object.entries(detail).map(([key, value]) => [key, typeof value === "string" ? maskedValue(event, key, value, forward) : value]));
}

/**
 * An audit record's detail as the console shows it: "key: value" pairs, the field names and FAMOS's own
 * enumerated values in the reader's language (the persona walk: "purpose: signin" on a German page);
 * times (ms since the epoch under keys such as "until") shown as times; addresses masked (maskedDetail);
 * words from outside as stored, hidden characters shown.
 */
export function detailText(t: Translator, detail: Record<string, unknown>, event?: string): string {
  return Object.entries(maskedDetail(detail, event))
    .map(([key, value]) => {
      const name = known(DETAIL_KEYS, key);
      return t.text("console.detail.pair", { key: name === undefined ? showHiddenCharacters(key) : t.text(name), value: valueText(t, event, key, value) });
    })
    .join(", ");
}
