/**
 * A mail body as quoted-printable UTF-8 (RFC 2045 §6.7), encoded and wrapped in one pass over its
 * bytes: what nodemailer's `qp.wrap(qp.encode(…), 76)` gives a reader, at a fraction of the CPU
 * (issue 17: those two were ~80 % of composing a code mail; bench/mail-compose.ts).
 *
 * - Every line break of the body (LF or CRLF) is a hard break, CRLF (RFC 5322 §2.3); a lone CR is data (=0D).
 * - Printable ASCII but "=" is written as is; "=", control characters and every byte of a non-ASCII
 *   character are =XX (upper-case hex), the bytes of one character kept on one line.
 * - A space or tab just before a hard break or the end is encoded (=20, =09): a relay may strip it.
 * - No line is longer than 76 characters: a soft break ("=" CRLF) ends a line before it would be.
 */
const LITERAL = new Uint8Array(256);
for (let b = 0x20; b <= 0x7e; b++) LITERAL[b] = b === 0x3d ? 0 : 1;
LITERAL[0x09] = 1;
const HEX = Buffer.from("0123456789ABCDEF", "latin1");

/** A line's content before its soft break: 75 characters and "=" make the 76 RFC 2045 allows. */
const SOFT_LIMIT = 75;

export function quotedPrintable(body: string): string {
  const head = fixedHeads.find((part) => body.startsWith(part.plain));
  const tail = fixedTails.find((part) => body.endsWith(part.plain));
  const start = head?.plain.length ?? 0;
  const end = body.length - (tail?.plain.length ?? 0);
  // Without a fixed part, or where the parts would overlap or split a CRLF: the body in one piece.
  if ((head === undefined && tail === undefined) || end < start || (tail && body.charCodeAt(end - 1) === 0x0d)) return quotedPrintableWhole(body);
  return (head?.text ?? "") + encode(body.slice(start, end), head?.column ?? 0).text + (tail?.text ?? "");
}

/** The body encoded in one piece, fixed parts or not: what quotedPrintable's result equals (test/mail/quoted-printable.unit). */
export function quotedPrintableWhole(body: string): string {
  return encode(body, 0).text;
}

/**
 * The fixed parts of the mail templates (issue 17): a template's text and HTML open and close with
 * the same words for every message of one language and purpose; only what lies between (the code,
 * the login ID, the moment, the browser) changes. The templates register those parts as they render
 * them (src/otp/messages.ts, a frame's head and tails: never a code, a login ID or a time); each is
 * encoded once, and a body that begins or ends with one is encoded around it, exactly as it would be
 * whole: a head is written from the start of a line and the middle goes on from the head's last
 * column; a tail begins a line (its first character a line break), so it is written the same after
 * any middle. Past 256 parts the kept ones start again rather than grow.
 */
interface Encoded {
  plain: string;
  text: string;
  /** The length of the last line written, where what follows goes on. */
  column: number;
}
const FIXED_LIMIT = 256;
const fixedHeads: Encoded[] = [];
const fixedTails: Encoded[] = [];

export function keepFixedParts(parts: { head?: string; tail?: string }): void {
  if (fixedHeads.length + fixedTails.length >= FIXED_LIMIT) fixedHeads.length = fixedTails.length = 0;
  // A head ending in a CR, a space or a tab would be written differently whole (a CRLF, or whitespace before a break).
  if (parts.head && !/[\r \t]$/.test(parts.head) && !fixedHeads.some((p) => p.plain === parts.head)) fixedHeads.push({ plain: parts.head, ...encode(parts.head, 0) });
  if (parts.tail && parts.tail.startsWith("\n") && !fixedTails.some((p) => p.plain === parts.tail)) fixedTails.push({ plain: parts.tail, ...encode(parts.tail, 0) });
}

let scratch = Buffer.allocUnsafeSlow(16 * 1024);

function encode(body: string, column: number): { text: string; column: number } {
  const bytes = Buffer.from(body, "utf8");
  const length = bytes.length;
  // At most three characters a byte, and a soft break (three) per 75 of those; written into one
  // buffer kept for the process (the result is copied out as a string), not one allocated per part.
  const needed = length * 3 + Math.ceil((length * 3) / SOFT_LIMIT) * 3 + 3;
  if (scratch.length < needed) scratch = Buffer.allocUnsafeSlow(Math.max(needed, scratch.length * 2));
  const out = scratch;
  let pos = 0;
  let line = column;
  for (let i = 0; i < length; ) {
    const b = bytes[i]!;
    if (b === 0x0a || (b === 0x0d && bytes[i + 1] === 0x0a)) {
      out[pos++] = 0x0d;
      out[pos++] = 0x0a;
      line = 0;
      i += b === 0x0d ? 2 : 1;
      continue;
    }
    let literal = LITERAL[b] === 1;
    if (literal && (b === 0x20 || b === 0x09)) {
      const next = bytes[i + 1];
      literal = next !== undefined && next !== 0x0a && next !== 0x0d;
    }
    // The lead byte of a UTF-8 sequence takes its continuation bytes with it (Buffer.from writes only whole ones).
    const count = literal || b < 0xc0 ? 1 : Math.min(b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2, length - i);
    const width = literal ? 1 : 3 * count;
    if (line + width > SOFT_LIMIT) {
      out[pos++] = 0x3d;
      out[pos++] = 0x0d;
      out[pos++] = 0x0a;
      line = 0;
    }
    line += width;
    if (literal) {
      out[pos++] = b;
      i += 1;
      continue;
    }
    for (const end = i + count; i < end; i++) {
      const c = bytes[i]!;
      out[pos++] = 0x3d;
      out[pos++] = HEX[c >> 4]!;
      out[pos++] = HEX[c & 15]!;
    }
  }
  const text = out.toString("latin1", 0, pos);
  // The middle of a code mail holds the code: it does not stay in the kept buffer after its message.
  out.fill(0, 0, pos);
  return { text, column: line };
}
