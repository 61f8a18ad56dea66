import { showHiddenCharacters } from "../users/fields.ts";

/**
 * A reporting server's words as one line of plain text, at most 300 characters (code points). They come from
 * outside — any mail server, or anyone who writes a DSN to the VERP address they read in their own
 * code mail's Return-Path — and reach the console, the audit trail and `famos user show` on an
 * operator's terminal: C0 and C1 control characters (ESC and CSI start terminal escapes that retitle
 * the window, clear it or write the clipboard; CR and LF break lines) and Unicode's line and paragraph
 * separators become a space (ASVS 5.3.1, 7.3.1). Invisible format characters become U+FFFD, seen and
 * harmless (showHiddenCharacters, the rule of names and notice titles): a U+202E in a forged report
 * reversed the console's own words after the reason ("; mailbox full", the soft count) on the user's
 * page and on Needs attention, as it once did a notice title's on the banner.
 */
export function reasonText(raw: string): string {
  const text = showHiddenCharacters(
    raw
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
      .replace(/ {2,}/g, " ")
      .trim(),
  );
  // By code points: a UTF-16 slice could end between the two halves of an emoji (a lone surrogate).
  return Array.from(text).slice(0, 300).join("");
}
