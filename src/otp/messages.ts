import { isIP } from "node:net";
import type { Locale } from "../i18n/locales.ts";
import { translator, type MessageKey, type Translator } from "../i18n/translator.ts";
import { keepFixedParts } from "../mail/quoted-printable.ts";
import { escapeHtml, html, type SafeHtml } from "../platform/html.ts";
import { Kept } from "../platform/kept.ts";
import { describeBrowser } from "../platform/user-agent.ts";
import type { FlowsTable } from "../store/schema.ts";

export const OTP_SUBJECT = "Your FAMOS one time passcode";

export interface CodeMailInput {
  code: string;
  loginId: string;
  purpose: FlowsTable["kind"];
  ttlMs: number;
  expiresAt: number;
  timezone: string;
  supportEmail: string;
  /** Who asked: the client address and User-Agent of the request that sent the code. */
  requestedBy?: { ip: string; userAgent: string } | undefined;
  /** The recipient's language (issue 16); English when not given. */
  locale?: Locale | undefined;
}

const PURPOSE: Record<FlowsTable["kind"], MessageKey> = {
  signin: "mail.code.purposeSignin",
  enrol: "mail.code.purposeEnrol",
  "email-change": "mail.code.purposeEmailChange",
  "password-reset": "mail.code.purposePasswordReset",
};

/**
 * Where the code is typed (an email change's on "Confirm your new OTP email") and what to do if it
 * was not you. A reset code is asked for with a login ID alone, not the password, and is typed on
 * "Reset your password": the sign-in words ("OTP capture", "someone may know your password") would
 * send its reader to the wrong page and alarm them wrongly.
 */
const VALIDITY: Record<FlowsTable["kind"], MessageKey> = {
  signin: "mail.code.validity",
  enrol: "mail.code.validity",
  "email-change": "mail.code.validityEmailChange",
  "password-reset": "mail.code.validityReset",
};
/**
 * An enrolment's or an email change's code goes to the address the one signing in typed: its reader
 * may be a colleague or a stranger whose address was mistyped, whose password nothing puts at risk.
 */
const NOT_YOU: Record<FlowsTable["kind"], MessageKey> = {
  signin: "mail.code.notYou",
  enrol: "mail.code.notYouAddress",
  "email-change": "mail.code.notYouAddress",
  "password-reset": "mail.code.notYouReset",
};

const FONT = "font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; font-size: 15px; line-height: 1.5";

/**
 * What a code mail says that does not depend on the code, the account, the request or the moment:
 * the same for every mail in one language, zone, purpose and validity (bounded by the languages,
 * the zones users pick, four purposes and the configured validity). Rendered and escaped once,
 * not per sign-in (issue 17).
 */
interface CodeMailFrame {
  t: Translator;
  subject: string;
  purpose: string;
  validity: string;
  notYou: string;
  never: string;
  words: { on: (browser: string, system: string) => string; unknown: string };
  /** The HTML part up to the code, between the code and the "requested" paragraph, and after the validity paragraph. */
  head: string;
  afterCode: string;
  tail: string;
}

/** Zones are the users' own: past 256 frames (a few KB each) start again rather than grow. */
const frames = new Kept<string, CodeMailFrame>(256);

function codeMailFrame(input: CodeMailInput): CodeMailFrame {
  const locale = input.locale ?? "en-GB";
  const id = `${locale}|${input.timezone}|${input.purpose}|${input.ttlMs}|${input.supportEmail}`;
  return frames.get(id, () => {
    const frame = makeFrame(input, locale);
    // The mail's fixed parts, quoted-printable once for every message built on this frame (issue 17).
    keepFixedParts({ head: frame.head, tail: frame.tail });
    keepFixedParts({ tail: textTail(frame) });
    return frame;
  });
}

/** The text part after the validity paragraph: the same for every mail on one frame. */
const textTail = (frame: CodeMailFrame) => `\n\n${frame.notYou}\n\n${frame.never}`;

function makeFrame(input: CodeMailInput, locale: Locale): CodeMailFrame {
  const t = translator(locale, input.timezone);
  const subject = t.text("mail.code.subject");
  const notYou = t.text(NOT_YOU[input.purpose], { support: input.supportEmail });
  const never = t.text("mail.code.never");
  // "Chrome on Windows" for each pair a User-Agent can name: a handful per language.
  const described = new Map<string, string>();
  const words = {
    on: (browser: string, system: string) => {
      const pair = `${browser}|${system}`;
      let text = described.get(pair);
      if (text === undefined) described.set(pair, (text = t.text("sessions.browserOn", { browser, system })));
      return text;
    },
    unknown: t.text("mail.code.unknownBrowser"),
  };
  return {
    t,
    subject,
    purpose: t.text(PURPOSE[input.purpose]),
    validity: t.duration(input.ttlMs),
    notYou,
    never,
    words,
    head: html`<!doctype html>
<html lang="${t.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${subject}</title></head>
<body style="margin: 0; padding: 0; background-color: #f2f4f7">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color: #f2f4f7">
<tr><td align="center" style="padding: 24px 12px">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" border="0" style="max-width: 560px; width: 100%; background-color: #ffffff; border: 1px solid #d0d5dd">
<tr><td style="${FONT}; background-color: #1c3f6e; color: #ffffff; font-size: 18px; font-weight: bold; padding: 16px 24px">FAMOS</td></tr>
<tr><td style="${FONT}; padding: 24px 24px 8px 24px">${t.text("mail.code.introHtml")}</td></tr>
<tr><td style="padding: 0 24px 16px 24px"><table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td style="font-family: 'Courier New', Courier, monospace; font-size: 30px; font-weight: bold; letter-spacing: 6px; color: #1a1a1a; background-color: #eef2f7; border: 1px solid #c4ccd8; padding: 10px 18px">`.value,
    afterCode: `</td></tr></table></td></tr>\n`,
    tail: html`
${row(notYou, "; border-top: 1px solid #e4e7ec; padding-top: 16px")}
${row(never, "; color: #475467; font-size: 13px")}
</table>
</td></tr>
</table>
</body></html>`.value,
  };
}

const row = (content: SafeHtml | string, style = "") => html`<tr><td style="${FONT}; padding: 0 24px 16px 24px${style}">${content}</td></tr>`;

/**
 * An IPv4 or IPv6 address and nothing else: Node's isIP also takes an IPv6 zone ID of any text after a
 * '%' ("::1%Your-account-is-locked…" is 6), which a forged X-Forwarded-For would write into the mail.
 * A client's address as FAMOS sees it has no zone.
 */
function isPlainAddress(ip: string): boolean {
  return !ip.includes("%") && isIP(ip) !== 0;
}

/**
 * SPEC item 3: the code, its validity in words with the clock time it ends, the login ID, and what to
 * do. Issue 15: the zone as people say it, which browser and address asked, one line per paragraph
 * in the text part (mail clients wrap it; a hard break mid-sentence shows as a ragged line), and an
 * HTML part built of tables with inline styles, which is what common mail clients render alike.
 */
export function codeMail(input: CodeMailInput): { subject: string; text: string; html: string } {
  const frame = codeMailFrame(input);
  const { t, purpose } = frame;
  // The address only when it is one: with FAMOS_TRUST_PROXY=true it is the client's own X-Forwarded-For,
  // any text without a space or a comma, which "Forgot password?" put into the owner's mail for a stranger.
  const from = input.requestedBy && isPlainAddress(input.requestedBy.ip) ? { browser: describeBrowser(input.requestedBy.userAgent, frame.words), ip: input.requestedBy.ip } : null;
  const key = from ? "mail.code.requestedFrom" : "mail.code.requested";
  const requested = t.text(key, { purpose, loginId: input.loginId, ...from });
  const validity = t.text(VALIDITY[input.purpose], {
    validity: frame.validity,
    time: t.time(input.expiresAt),
    date: t.date(input.expiresAt),
    zone: t.zone(input.expiresAt),
  });
  const text = [t.text("mail.code.intro", { code: input.code }), requested, validity].join("\n\n") + textTail(frame);
  const body =
    frame.head +
    escapeHtml(input.code) +
    frame.afterCode +
    html`${row(t.html(key, { purpose, loginId: html`<strong>${input.loginId}</strong>`, ...from }))}
${row(validity)}`.value +
    frame.tail;
  return { subject: frame.subject, text, html: body };
}

/** A short notice mail (lock started, address changed, reset): plain text with an HTML twin. */
export function noticeMail(subject: string, paragraphs: string[], t?: Translator): { subject: string; text: string; html: string } {
  const body = html`<!doctype html>
<html lang="${t?.locale ?? "en"}"><body style="font-family: Arial, sans-serif; color: #1a1a1a">
${paragraphs.map((p) => html`<p>${p}</p>`)}
</body></html>`;
  return { subject, text: paragraphs.join("\n\n"), html: body.value };
}

/** Who a notice mail is about and for: the account, when it happened, where to write, and the reader's language and zone. */
export interface NoticeContext {
  loginId: string;
  at: number;
  supportEmail: string;
  /** The recipient's language and time zone (issue 16). */
  t: Translator;
}

/**
 * "14:05 on 01/12/2026 (UK time)" in the recipient's language and zone, the zone named as the code
 * mail names it: the one wording every notice uses (`toTheSecond`: a moment waited for to the second,
 * as the factor notice's hourly cap is). Without the zone, a dealer in Germany reading a
 * FAMOS kept in UK time could not tell whether "changed at 14:05" was them an hour ago.
 */
export function zonedWhen(t: Translator, at: number, toTheSecond = false): string {
  return t.withZone(t.text("mail.when", { time: toTheSecond ? t.timeWithSeconds(at) : t.time(at), date: t.date(at) }), at);
}

/** zonedWhen of a notice's moment. */
export function noticeWhen(c: NoticeContext): string {
  return zonedWhen(c.t, c.at);
}
