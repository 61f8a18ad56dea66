/**
 * What one mailbox is, for every place that puts an address on the wire: the transport's recipient
 * guard, FAMOS_MAIL_FROM at start, and the envelope sender and domain taken from it (ASVS 5.2.3). One
 * home, so the From header, the envelope and `famos mail check` never read the setting differently.
 */

/** A line break of any kind, a control character, or a space (Unicode's, not only ASCII's). */
const BREAKS_AND_CONTROLS = String.raw`\s\p{Cc}\u0085\u2028\u2029`;

/**
 * Exactly one address, local@domain, as the SMTP envelope and the To header take it: no space or line
 * break of any kind (U+0085, U+2028 and U+2029 included), no control character, and none of the
 * characters that make an address list, a group or a display name (`,;:<>()"[]\` and a second @).
 */
const ONE_ADDRESS = new RegExp(String.raw`^[^${BREAKS_AND_CONTROLS},;:<>()"[\]\\@]+@[^${BREAKS_AND_CONTROLS},;:<>()"[\]\\@]+$`, "u");

/**
 * A display name: one quoted string (RFC 5322 §3.2.4, with backslash escapes), or words of anything
 * but the specials that would start another address, a group or a comment (`,;:<>()"[]\@`). Non-ASCII
 * is allowed (nodemailer encodes it); line breaks, control characters and angle brackets are not,
 * quoted or not, so no reader can take an address out of the name.
 */
const QUOTED_NAME = /^"(?:[^"\\<>\p{Cc}\u2028\u2029]|\\[^<>\p{Cc}\u2028\u2029])*"$/u;
const PLAIN_NAME = /^[^\p{Cc}\u2028\u2029,;:<>()"[\]\\@]+$/u;

export function isOneAddress(value: string): boolean {
  return ONE_ADDRESS.test(value);
}

export interface Mailbox {
  /** The display name as written (quotes kept), or null. */
  display: string | null;
  address: string;
}

/** "address", "<address>" or "Name <address>" (surrounding spaces ignored); null for anything else. */
export function parseMailbox(value: string): Mailbox | null {
  const text = value.trim();
  const open = text.lastIndexOf("<");
  if (open < 0) return isOneAddress(text) ? { display: null, address: text } : null;
  if (!text.endsWith(">")) return null;
  const address = text.slice(open + 1, -1);
  const display = text.slice(0, open).trim();
  if (!isOneAddress(address)) return null;
  if (display === "") return { display: null, address };
  return QUOTED_NAME.test(display) || PLAIN_NAME.test(display) ? { display, address } : null;
}
