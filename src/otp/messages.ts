import { durationInWords } from "../config/duration.ts";
import { html } from "../platform/html.ts";
import { formatDate, formatTime } from "../platform/format.ts";
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
}

const PURPOSE: Record<FlowsTable["kind"], string> = {
  signin: "to sign in to FAMOS",
  enrol: "to confirm this address for your FAMOS one time passcodes",
  "email-change": "to make this address the one that receives your FAMOS one time passcodes",
  "password-reset": "to reset your FAMOS password",
};

/** SPEC item 3: the code, its validity in words with the clock time it ends, the login ID, and what to do. */
export function codeMail(input: CodeMailInput): { subject: string; text: string; html: string } {
  const validity = `valid for ${durationInWords(input.ttlMs)}`;
  const until = `${formatTime(input.expiresAt, input.timezone)} on ${formatDate(input.expiresAt, input.timezone)} (${input.timezone})`;
  const text = [
    `Your FAMOS one time passcode is: ${input.code}`,
    "",
    `It was requested ${PURPOSE[input.purpose]} with the login ID ${input.loginId}.`,
    `The code is ${validity}, until ${until}. Type it on the OTP capture screen; it works once.`,
    "",
    "If you did not try to sign in to FAMOS, do not give this code to anyone and ignore this email:",
    "without the code nobody can sign in. Someone may know your password, so change it on the Profile",
    `tab or ask your retail IT team (${input.supportEmail}) for help.`,
    "",
    "FAMOS will never ask you for this code by phone or email.",
  ].join("\n");
  const body = html`<!doctype html>
<html lang="en"><body style="font-family: Arial, sans-serif; color: #1a1a1a">
<p>Your FAMOS one time passcode is:</p>
<p style="font-size: 28px; font-weight: bold; letter-spacing: 4px">${input.code}</p>
<p>It was requested ${PURPOSE[input.purpose]} with the login ID <strong>${input.loginId}</strong>.</p>
<p>The code is ${validity}, until ${until}. Type it on the OTP capture screen; it works once.</p>
<p>If you did not try to sign in to FAMOS, do not give this code to anyone and ignore this email:
without the code nobody can sign in. Someone may know your password, so change it on the Profile tab
or ask your retail IT team (${input.supportEmail}) for help.</p>
<p>FAMOS will never ask you for this code by phone or email.</p>
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
