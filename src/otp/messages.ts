import { durationInWords } from "../config/duration.ts";
import { html, type SafeHtml } from "../platform/html.ts";
import { formatDate, formatTime, zoneName } from "../platform/format.ts";
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
}

const PURPOSE: Record<FlowsTable["kind"], string> = {
  signin: "to sign in to FAMOS",
  enrol: "to confirm this address for your FAMOS one time passcodes",
  "email-change": "to make this address the one that receives your FAMOS one time passcodes",
  "password-reset": "to reset your FAMOS password",
};

const FONT = "font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; font-size: 15px; line-height: 1.5";

/**
 * SPEC item 3: the code, its validity in words with the clock time it ends, the login ID, and what to
 * do. Issue 15: the zone as people say it, which browser and address asked, one line per paragraph
 * in the text part (mail clients wrap it; a hard break mid-sentence shows as a ragged line), and an
 * HTML part built of tables with inline styles, which is what common mail clients render alike.
 */
export function codeMail(input: CodeMailInput): { subject: string; text: string; html: string } {
  const validity = `valid for ${durationInWords(input.ttlMs)}`;
  const until = `${formatTime(input.expiresAt, input.timezone)} on ${formatDate(input.expiresAt, input.timezone)} (${zoneName(input.timezone, input.expiresAt)})`;
  const asked = `It was requested ${PURPOSE[input.purpose]} with the login ID ${input.loginId}`;
  const from = input.requestedBy ? ` from ${describeBrowser(input.requestedBy.userAgent)} at the address ${input.requestedBy.ip}` : "";
  const paragraphs = {
    requested: `${asked}${from}.`,
    validity: `The code is ${validity}, until ${until}. Type it on the OTP capture screen; it works once.`,
    notYou: `If you did not try to sign in to FAMOS, do not give this code to anyone and ignore this email: without the code nobody can sign in. Someone may know your password, so change it on the Profile tab or ask your retail IT team (${input.supportEmail}) for help.`,
    never: "FAMOS will never ask you for this code by phone or email.",
  };
  const text = [
    `Your FAMOS one time passcode is: ${input.code}`,
    paragraphs.requested,
    paragraphs.validity,
    paragraphs.notYou,
    paragraphs.never,
  ].join("\n\n");
  const row = (content: SafeHtml | string, style = "") => html`<tr><td style="${FONT}; padding: 0 24px 16px 24px${style}">${content}</td></tr>`;
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${OTP_SUBJECT}</title></head>
<body style="margin: 0; padding: 0; background-color: #f2f4f7">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color: #f2f4f7">
<tr><td align="center" style="padding: 24px 12px">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" border="0" style="max-width: 560px; width: 100%; background-color: #ffffff; border: 1px solid #d0d5dd">
<tr><td style="${FONT}; background-color: #1c3f6e; color: #ffffff; font-size: 18px; font-weight: bold; padding: 16px 24px">FAMOS</td></tr>
<tr><td style="${FONT}; padding: 24px 24px 8px 24px">Your FAMOS one time passcode is:</td></tr>
<tr><td style="padding: 0 24px 16px 24px"><table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td style="font-family: 'Courier New', Courier, monospace; font-size: 30px; font-weight: bold; letter-spacing: 6px; color: #1a1a1a; background-color: #eef2f7; border: 1px solid #c4ccd8; padding: 10px 18px">${input.code}</td></tr></table></td></tr>
${row(html`It was requested ${PURPOSE[input.purpose]} with the login ID <strong>${input.loginId}</strong>${from}.`)}
${row(paragraphs.validity)}
${row(paragraphs.notYou, "; border-top: 1px solid #e4e7ec; padding-top: 16px")}
${row(paragraphs.never, "; color: #475467; font-size: 13px")}
</table>
</td></tr>
</table>
</body></html>`;
  return { subject: OTP_SUBJECT, text, html: body.value };
}

/** A short notice mail (lock started, address changed, reset): plain text with an HTML twin. */
export function noticeMail(subject: string, paragraphs: string[]): { subject: string; text: string; html: string } {
  const body = html`<!doctype html>
<html lang="en"><body style="font-family: Arial, sans-serif; color: #1a1a1a">
${paragraphs.map((p) => html`<p>${p}</p>`)}
</body></html>`;
  return { subject, text: paragraphs.join("\n\n"), html: body.value };
}
