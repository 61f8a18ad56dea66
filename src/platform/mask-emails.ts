import { maskedLocal } from "./format.ts";

const QUOTE = 0x22;
const AT = 0x40;
const FULLWIDTH_AT = 0xff20;
const PERCENT = 0x25;
const AMPERSAND = 0x26;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
/** RFC 5322 atext and the dot, and the backslash of a quoted pair or of RFC 6533's \x{…}: a local part's ASCII. */
const LOCAL_ASCII = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\\-]$/;
const DOMAIN_ASCII = /^[A-Za-z0-9.-]$/;
const ASCII_LOCAL = Array.from({ length: 128 }, (_, c) => LOCAL_ASCII.test(String.fromCharCode(c)));
const ASCII_DOMAIN = Array.from({ length: 128 }, (_, c) => DOMAIN_ASCII.test(String.fromCharCode(c)));

/**
 * Beyond ASCII, any character but a C1 control, white space or the full-width "＠" (an "@" as Japanese and Chinese
 * text writes it): a letter of any script, or half of one (RFC 6531; masking more is safe).
 */
function wideWordCharacter(c: number): boolean {
  return !(c <= 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff || c === FULLWIDTH_AT);
}
const inLocalPart = (c: number) => (c < 128 ? ASCII_LOCAL[c]! : wideWordCharacter(c));
/** A domain's characters beyond ASCII are letters, marks and digits (IDN) or half of one: a list's "、" or a "»" ends it. */
const WIDE_DOMAIN = /^[\p{L}\p{M}\p{N}\uD800-\uDFFF]$/u;
const inDomain = (c: number) => (c < 128 ? ASCII_DOMAIN[c]! : WIDE_DOMAIN.test(String.fromCharCode(c)));

/**
 * Where the local part before the "@" at `at` begins, looking back no further than `floor`: a quoted one
 * ("jane doe"@…, from its opening quote), else the run of local-part characters before it (at itself when
 * there is none). Wider than RFC 5322 (a quote never opened is taken as a character): masking more is safe.
 */
function localStart(text: string, at: number, floor: number): number {
  if (text.charCodeAt(at - 1) === QUOTE) {
    for (let i = at - 2; i >= floor; i--) {
      if (text.charCodeAt(i) === QUOTE && (i === 0 || text.charCodeAt(i - 1) !== BACKSLASH)) return i;
    }
  }
  let start = at;
  while (start > floor && (inLocalPart(text.charCodeAt(start - 1)) || text.charCodeAt(start - 1) === QUOTE)) start--;
  return start;
}

/**
 * Where the domain that begins at `from` (the first character after its separator, separatorAt) ends: an
 * address literal ([192.0.2.1], [IPv6:…]) with its bracket, else the run of domain characters.
 */
function domainEnd(text: string, from: number): number {
  let end = from;
  if (text.charCodeAt(end) === 0x5b) {
    // At most 64 characters, none an "@", a bracket or white space: an unclosed one ends where it must.
    for (let i = end + 1; i < text.length && i <= end + 64; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x5d) return i + 1;
      if (c === 0x40 || c === 0x5b || c <= 0x20) break;
    }
    return end;
  }
  while (end < text.length && inDomain(text.charCodeAt(end))) end++;
  return end;
}

/**
 * Every address inside a text masked (maskEmail): a bounce report's words as shown to support name a third
 * person's mailbox in full ("550 5.1.1 <jane.private@gmail.example>: …", "Jane <jane@…>"), quoted
 * ("jane doe"@…), with an address literal (jane@[192.0.2.1]) or right after another (a@b/jane@…), its "@"
 * written another way (separatorAt: percent-encoded in a URL a relay quotes, full-width, an HTML entity), or
 * without its "@" in Microsoft 365's words, by the mailbox's name or the person's ("jane.doe wasn't found at
 * contoso.example", "Jane Doe wurde nicht in contoso.example gefunden", "Jane Doe <jane@…> wasn't found at …":
 * namesMasked). A Message-ID (<id@host>)
 * is masked too: it cannot be told from an address. Microsoft 365's words first, then the addresses: each
 * local part or name is read back from its "@" (or its phrase) no further than the last one or the end of the
 * last address (a "%" or "&" that writes no "@" is a local part's character: jane&john@… masked from its "j"), each domain forward to the next "@" at most (one that stops there takes the glued address with
 * it, once), so a 100 kB text of "@"s, "%"s, "&"s, quotes or letters costs a bounded number of looks per
 * character (a regular expression tried at each "@" or at each letter was quadratic).
 */
export function maskEmailsIn(text: string): string {
  return addressesMasked(namesMasked(namesMasked(text, WASNT_FOUND_AT), NICHT_GEFUNDEN));
}

/** The first character of each way an "@" is written (separatorAt). */
const SEPARATOR_STARTS = ["@", "%", "\uff20", "&"];

function addressesMasked(text: string): string {
  let out = "";
  let done = 0;
  let floor = 0;
  let from = 0;
  // The next of each separator's first character from `from`, each searched again only once passed.
  const next = SEPARATOR_STARTS.map((c) => text.indexOf(c));
  for (;;) {
    let at = -1;
    for (let k = 0; k < next.length; k++) {
      if (next[k] !== -1 && next[k]! < from) next[k] = text.indexOf(SEPARATOR_STARTS[k]!, from);
      if (next[k] !== -1 && (at === -1 || next[k]! < at)) at = next[k]!;
    }
    if (at === -1) break;
    const sign = separatorAt(text, at);
    from = at + 1;
    // A "%" or "&" that writes no "@" is a local part's character (jane&john@…, sales%marketing@…): it moves no floor.
    if (sign === 0) continue;
    const start = localStart(text, at, floor);
    if (start < at) {
      // A domain that runs into the next "@" holds that address's local part (bob@x.exampleとjane@…,
      // a@relay.example-jane@…): the run is masked up to the last glued address's end (masking more is safe).
      let last = at;
      let end = domainEnd(text, at + sign);
      while (separatorAt(text, end) > 0) end = domainEnd(text, (last = end) + separatorAt(text, end));
      out += text.slice(done, start) + maskedLocal(text, start) + text.slice(last, end);
      done = end;
    }
    floor = from = Math.max(done, at + 1);
  }
  return out + text.slice(done);
}

/**
 * The length of the "@" at `i` as written, 0 when there is none: "@" and the full-width "＠" (U+FF20); percent-encoded
 * once, "%40", or again for each URL it was put inside ("%2540", "%252540": each encoding turns the "%" into "%25");
 * an HTML character reference ("&#64;", "&#x40;", leading zeros allowed, its semicolon too as browsers decode a numeric
 * one without it, "&#64contoso…", unless a further digit makes another character; or the named "&commat;", its semicolon
 * required: WHATWG HTML's tokenizer, its character reference states).
 */
function separatorAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === AT || c === FULLWIDTH_AT) return 1;
  if (c === PERCENT) {
    let j = i + 1;
    while (text.charCodeAt(j) === 0x32 && text.charCodeAt(j + 1) === 0x35) j += 2;
    return text.charCodeAt(j) === 0x34 && text.charCodeAt(j + 1) === 0x30 ? j + 2 - i : 0;
  }
  if (c !== AMPERSAND) return 0;
  if (text.startsWith("commat;", i + 1)) return 8;
  if (text.charCodeAt(i + 1) !== 0x23) return 0;
  const hex = (text.charCodeAt(i + 2) | 0x20) === 0x78;
  let j = i + (hex ? 3 : 2);
  while (text.charCodeAt(j) === 0x30) j++;
  const [first, second] = hex ? [0x34, 0x30] : [0x36, 0x34];
  if (text.charCodeAt(j) !== first || text.charCodeAt(j + 1) !== second) return 0;
  // Without its semicolon as browsers decode it (&#64contoso…), unless another digit makes it another character (&#640, &#x40c).
  const after = text.charCodeAt(j + 2);
  if (after === 0x3b) return j + 3 - i;
  return (after >= 0x30 && after <= 0x39) || (hex && (after | 0x20) >= 0x61 && (after | 0x20) <= 0x66) ? 0 : j + 2 - i;
}

/** Whether an "@" written any way (separatorAt) ends just before `i`: an entity's is looked for no further back than its longest sensible form. */
function separatorEndsAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i - 1);
  if (c === AT || c === FULLWIDTH_AT) return true;
  if (c !== 0x3b) return false;
  for (let j = i - 2; j >= Math.max(0, i - 12); j--) if (text.charCodeAt(j) === AMPERSAND) return separatorAt(text, j) === i - j;
  return false;
}

/**
 * Microsoft 365's non-delivery report names the mailbox without its "@", by its local part or by the person's
 * display name, in the sender's language: where `phrase` is found and `names` answers where the name before it
 * ends, the name is masked as a local part is (its first letter, then "•••"). Each occurrence found once, each
 * name read back no further than the last occurrence's end.
 */
interface NamingPhrase {
  phrase: string;
  /** Where the name before the phrase found at `at` ends (the space before the sentence's verb), or -1: not Microsoft 365's sentence. */
  names: (text: string, at: number) => number;
}

/** "jane.doe wasn't found at contoso.example." (its apostrophe straight or typographic). */
const WASNT_FOUND_AT: NamingPhrase = {
  phrase: "t found at ",
  names: (text, at) => {
    const apostrophe = text.charCodeAt(at - 1);
    return (apostrophe === 0x27 || apostrophe === 0x2019) && text.startsWith(" wasn", at - 6) ? at - 6 : -1;
  },
};

/** "info wurde nicht in dorfladen-oberornau.de gefunden, oder das Postfach ist nicht verfügbar.": a domain, then "gefunden". */
const NICHT_GEFUNDEN: NamingPhrase = {
  phrase: " wurde nicht in ",
  names: (text, at) => {
    const domain = at + NICHT_GEFUNDEN.phrase.length;
    const end = domainEnd(text, domain);
    return end > domain && text.slice(domain, end).includes(".") && text.startsWith(" gefunden", end) ? at : -1;
  },
};

function namesMasked(text: string, { phrase, names }: NamingPhrase): string {
  let out = "";
  let done = 0;
  let floor = 0;
  for (let at = text.indexOf(phrase); at !== -1; at = text.indexOf(phrase, at + phrase.length)) {
    const end = names(text, at);
    const name = end === -1 ? null : nameBefore(text, end, Math.max(done, floor));
    floor = at + phrase.length;
    if (name === null) continue;
    out += text.slice(done, name.start) + maskedLocal(text, name.start);
    done = name.end;
  }
  return out + text.slice(done);
}

/**
 * The name before Microsoft 365's phrase, the word before it ending at `end` (read back no further than `floor`):
 * the mailbox or the name (nameStart), or an address in angle brackets ("Jane Doe <jane@…> wasn't found at …"),
 * left for addressesMasked, with the display name before it masked as a bare one is, its first word judged as
 * the others are (a status code or a sentence's end is no name). Null: no name.
 */
function nameBefore(text: string, end: number, floor: number): { start: number; end: number } | null {
  const open = bracketedAddressAt(text, end, floor);
  let nameEnd = open === -1 ? end : open;
  // Several recipients' addresses ("Jane Doe <a@…> <b@…> wasn't found at …"): the name before the first.
  for (let before = open; before !== -1; before = bracketedAddressAt(text, nameEnd, floor)) {
    nameEnd = before;
    while (nameEnd > floor && blank(text.charCodeAt(nameEnd - 1))) nameEnd--;
  }
  const start = nameStart(text, nameEnd, floor, open !== -1);
  return start === -1 ? null : { start, end: nameEnd };
}

/**
 * Where the "<" is of an address in angle brackets ending at `end` ("<jane@contoso.example>", its "@" written any
 * way, its local part quoted with spaces in it: <"jane doe"@…>), or -1.
 */
function bracketedAddressAt(text: string, end: number, floor: number): number {
  if (text.charCodeAt(end - 1) !== 0x3e) return -1;
  let address = false;
  for (let i = end - 2; i >= floor; i--) {
    const c = text.charCodeAt(i);
    if (c === 0x3c) return address ? i : -1;
    // A quoted local part, read back to its opening quote in one pass (an unclosed one: no address).
    if (c === QUOTE && address) {
      do i--; while (i >= floor && (text.charCodeAt(i) !== QUOTE || text.charCodeAt(i - 1) === BACKSLASH));
      if (i < floor) return -1;
      continue;
    }
    if (c === 0x3e || c <= SPACE || blank(c)) return -1;
    if (!address && (c === AT || c === PERCENT || c === AMPERSAND || c === FULLWIDTH_AT)) address = separatorAt(text, i) > 0;
  }
  return -1;
}

/**
 * Whether the word from `start` to `end` ends a sentence ("failed."): a dot after more than one character, the word
 * not a capital's ("Jr.", "III.", "Inc." are a name's suffix; an initial, "Q.", is never a sentence's end).
 */
function sentenceEnd(text: string, start: number, end: number): boolean {
  const first = text.charAt(start);
  return text.charCodeAt(end - 1) === 0x2e && end - start > 2 && first === first.toLowerCase();
}

/** A display name's characters: a local part's, and its quotes, brackets and comma ("Jane Doe", "(Sales)", "Doe, Jane"). */
const inName = (c: number) => inLocalPart(c) || c === QUOTE || c === 0x28 || c === 0x29 || c === 0x2c;
/** White space within a line: the space, a tab, the no-break and other Unicode spaces (a line break ends a name). */
const blank = (c: number) => c === SPACE || c === 0x09 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000;

/**
 * Where the name ending at `end` begins, read back no further than `floor`. The word right before the phrase is
 * the mailbox or the name, whatever it holds ("1234567", a staff number); before it, the whole run of words of
 * name characters (inName), any white space but a line break apart ("Jane van der Berg", "Doe, Jane (Sales)",
 * "Jane Q. Public": a display name is personal data as much as a mailbox), back to the line's start, any other
 * character (":", ";", "<"), a word with no letter (a status code, "5.1.1") or one ending a sentence ("failed.";
 * an initial, "Q.", or a capital's suffix, "Jr.", "III.", does not: sentenceEnd); `judgeFirst`: the first word too
 * (a name before an address, nameBefore), where numbers ("Jane Doe 3") are the name's when a word with a letter precedes them. -1 when there is no name, or the word before the phrase is an address's part
 * (its domain, its "@" written any way): the address is masked as such.
 */
function nameStart(text: string, end: number, floor: number, judgeFirst = false): number {
  let start = -1;
  // judgeFirst: numbers right before the address ("Jane Doe 3 <…>") are the name's when a word with a letter comes before them.
  let numbers = judgeFirst;
  for (let wordEnd = end; ; ) {
    let i = wordEnd;
    let letter = false;
    while (i > floor) {
      const c = text.charCodeAt(i - 1);
      if (!inName(c)) break;
      i--;
      if (c >= 0x80 || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) letter = true;
      // An address's part: read no further (the name, if any, is the words after it).
      else if ((c === PERCENT || c === AMPERSAND) && separatorAt(text, i) > 0) return start;
    }
    if (i === wordEnd || separatorEndsAt(text, i)) return start;
    numbers &&= !letter && /^[0-9]+$/.test(text.slice(i, wordEnd));
    if (!numbers && (start !== -1 || judgeFirst) && (!letter || sentenceEnd(text, i, wordEnd))) return start;
    if (!numbers) start = i;
    let gap = i;
    while (gap > floor && blank(text.charCodeAt(gap - 1))) gap--;
    if (gap === i || gap <= floor) return start;
    wordEnd = gap;
  }
}
