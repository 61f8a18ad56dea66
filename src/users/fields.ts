/** The fields every way of making a user checks (user add, the import, the console): one home for their limits. */
import { OPERATOR_PREFIX } from "../audit/audit.ts";
import { maskMailbox } from "../platform/format.ts";
import { maskEmailsIn } from "../platform/mask-emails.ts";
import { loginKey } from "./users.ts";

/** C0, DEL and C1 (U+0080–U+009F: U+009B is a one-byte CSI to many terminals). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Whether single-line text someone typed (a login ID, a name, a ticket reference, a notice's title)
 * holds a control character: C0, DEL or C1. One home, so the console and the CLI refuse the same
 * characters before any of them reaches the audit trail, a mail, or an operator's screen or terminal.
 * Text that may have line breaks (a notice's body) takes its "\n" out first.
 */
export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text);
}

/**
 * Invisible format characters (issue 19.7): every character of Unicode's general category Cf —
 * zero-width characters (U+200B–U+200D, U+2060–U+2064, U+FEFF, U+180E, the soft hyphen U+00AD),
 * bidirectional controls (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069; UAX #9, the "Trojan
 * Source" characters), the deprecated format controls U+206A–U+206F, interlinear annotation
 * U+FFF9–U+FFFB and the tag characters U+E0001, U+E0020–U+E007F — and the variation selectors
 * (U+FE00–U+FE0F, U+E0100–U+E01EF, Mongolian U+180B–U+180F), which are marks (Mn) but, like the
 * rest of Unicode's Default_Ignorable_Code_Point set (U+034F, the Hangul fillers U+3164, U+FFA0),
 * show nothing. In a login ID or a name they make two accounts look the same, or reorder what support
 * reads on the console and in mails, so neither `user add`, the import nor the console takes them.
 * The whole category, not a list, so a character the list missed is not the next finding.
 *
 * ZWJ (U+200D) and ZWNJ (U+200C) are Cf too and stay refused: they are needed to write some words of
 * Persian and of Indic scripts, and ZWJ joins emoji sequences, but FAMOS's staff are named in the
 * Latin script of six European languages, where neither ever changes a letter; accents, combining
 * marks (Mn, as in a decomposed "é") and apostrophes are not Cf and are taken. A deployment whose
 * staff write such scripts would have to let those two through here, in the login ID's look-alike
 * rule's knowledge. Email addresses are checked by their own rule (mail/mailbox.ts), not this one.
 * ZWJ also stays refused in emoji: a joined emoji (👩‍💻, ❤️‍🔥) is several characters a font may or may
 * not draw as one, and the joiner is as invisible between them as between two letters.
 *
 * One exception: U+FE0E or U+FE0F directly after a pictograph (Unicode's Extended_Pictographic, the
 * emoji and the symbols that may be drawn as one: ❤ ⚠ ✈ © 😀) is taken. There it is not hidden but
 * selects how the pictograph looks (text or emoji), and an iPhone types "❤️" or "⚠️" with it, so a
 * passkey named "❤️ phone" or a notice titled "⚠️ Maintenance" is what its author sees. It cannot
 * reorder, join or hide anything there; at worst (😀 is drawn as emoji anyway) it changes nothing.
 * Anywhere else (after a letter, a second one, alone, at the start) it shows nothing and is refused.
 * Not after a keycap's base (0–9, #, *: "1️⃣" is "1", U+FE0F, U+20E3): there it shows only while
 * U+20E3 follows, and "1" with it alone looks like "1"; the keycap without it is taken. A new login ID
 * takes no variation selector at all (newLoginIdProblem).
 */
const INVISIBLE = /(?!(?<=\p{Extended_Pictographic})[\uFE0E\uFE0F])[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/**
 * Whether text holds such an invisible format character: a login ID, a name, or a notice's title,
 * which the portal banner shows with FAMOS's own words after it (a U+202E there reversed the date
 * and "Please click for more info" for every user), and its body, the page staff read it on.
 */
export function hasInvisibleCharacters(text: string): boolean {
  return INVISIBLE.test(text);
}

const HIDDEN = new RegExp(`${CONTROL.source}|${INVISIBLE.source}`, "gu");

/**
 * Text stored before a rule above refused it (a passkey's name), fit to quote in a mail: each control
 * or invisible format character becomes U+FFFD, seen and harmless. A selector the rule takes (after a
 * pictograph: "❤️") stays as it is.
 */
export function showHiddenCharacters(text: string): string {
  return text.replace(HIDDEN, "\ufffd");
}

/** How a forward's undeliverable reason begins (forwardBounceSet): "→ mailbox: the relay's words". */
export const FORWARD_REASON_MARK = "→ ";

/**
 * Outside words FAMOS stored as they came (a relay's `last_error`) or before a rule above cleaned them (a
 * bounce reason kept from before reasonText), as support reads them (its user page, Needs attention,
 * `famos user show`): showHiddenCharacters, or null for none. A relay's words often name mailboxes (the
 * recipient, a postmaster, a colleague left as a contact): each is masked (maskEmailsIn), as addresses are
 * everywhere support reads them; the audit record and the outbox row keep the words whole. A forward's
 * mailbox (FORWARD_REASON_MARK) is shown by maskMailbox: rows written before forwardBounceSet used it hold
 * the forward's display name ("→ Jane Doe <j•••@…>: …"), a third person's, dropped here (no migration).
 */
export function storedWordsShown(text: string | null): string | null {
  if (text === null) return null;
  const shown = showHiddenCharacters(text);
  if (!shown.startsWith(FORWARD_REASON_MARK)) return maskEmailsIn(shown);
  const end = mailboxEnd(shown, FORWARD_REASON_MARK.length);
  return FORWARD_REASON_MARK + maskMailbox(shown.slice(FORWARD_REASON_MARK.length, end)) + maskEmailsIn(shown.slice(end));
}

/** Where a mailbox from `from` ends: at the first ":" outside a quoted name, a comment and <…> (the text's end if none). */
function mailboxEnd(text: string, from: number): number {
  let quoted = false;
  let comment = 0;
  let angle = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quoted) quoted = !(c === '"' && text[i - 1] !== "\\");
    else if (c === '"') quoted = true;
    else if (c === "(") comment++;
    else if (c === ")" && comment > 0) comment--;
    else if (comment > 0) continue;
    else if (c === "<") angle = true;
    else if (c === ">") angle = false;
    else if (c === ":" && !angle) return i;
  }
  return text.length;
}

/** Characters of no script of their own: digits, punctuation, combining marks (UAX #24 Common, Inherited). */
const NEUTRAL = /[\p{Script=Common}\p{Script=Inherited}]/u;
/** The scripts told apart; a letter of any other counts as one script, "other", so it may not mix either. */
const SCRIPTS = ["Latin", "Cyrillic", "Greek", "Armenian", "Georgian", "Cherokee", "Coptic", "Hebrew", "Arabic", "Han", "Hiragana", "Katakana", "Hangul", "Bopomofo", "Thai", "Devanagari"].map(
  (name) => [name, new RegExp(`\\p{Script=${name}}`, "u")] as const,
);
/** UTS #39 "highly restrictive": the mixtures that are one writing system (Japanese, Chinese, Korean with Latin). */
const MIXTURES = [new Set(["Latin", "Han", "Hiragana", "Katakana"]), new Set(["Latin", "Han", "Bopomofo"]), new Set(["Latin", "Han", "Hangul"])];

/**
 * Whether a login ID can look like another while being another (UTS #39): letters of scripts that
 * are no one writing system ("jаne" with a Cyrillic а beside "jane"), or compatibility forms that NFKC
 * would fold into ordinary characters (the ligature "ﬁ", full-width or mathematical letters, "²").
 * Login keys are NFC and lower case (users.ts loginKey), so such an ID is a second account that
 * support cannot tell from the first on the console or in a mail. Every way of making a user
 * refuses it; accounts made before keep signing in.
 */
export function lookAlikeProblem(loginId: string): string | null {
  if (loginId.normalize("NFKC") !== loginId.normalize("NFC")) return "the login ID must not contain full-width letters, ligatures or other compatibility forms of ordinary characters";
  const scripts = new Set<string>();
  for (const c of loginId) {
    if (!NEUTRAL.test(c)) scripts.add(SCRIPTS.find(([, re]) => re.test(c))?.[0] ?? "other");
  }
  if (scripts.size > 1 && !MIXTURES.some((m) => [...scripts].every((s) => m.has(s)))) {
    return "the login ID must not mix letters of different scripts (such as Latin and Cyrillic), which can look alike";
  }
  return passesForLatin(loginId, scripts) ? PASSING : null;
}

const PASSING = "the login ID must not pass for a Latin one: Cyrillic or Greek letters that all look like Latin ones, small capitals or phonetic letters";
/** Cyrillic and Greek letters that look like Latin ones (UTS #39 confusables.txt, the unmistakable ones). */
const LATIN_LOOKING: Record<string, RegExp> = {
  Cyrillic: /^[аеіјорсуһхѕԁӏԛԝүАВЕКМНОРСТХІЈЅҮӀԚԜ]$/u,
  Greek: /^[αικνορυχγΑΒΕΖΗΙΚΜΝΟΡΤΥΧ]$/u,
};
/** Latin letters no one's name is written with that pass for ordinary ones: small capitals (ᴍ, ʟ, ɪ), ɑ, ɡ, the clicks ǀ ǁ ǃ. */
const PHONETIC = /[\u1d00-\u1d2b\u0251\u0261\u0262\u026a\u0274\u0280\u028f\u029c\u029f\u01c0-\u01c3]/u;

/**
 * Whole-script look-alikes (UTS #39 "highly restrictive" lets them through): "јре" all in Cyrillic
 * beside "jpe", or Latin with small capitals or phonetic letters ("sᴍith" beside "smith"). A Cyrillic
 * or Greek ID with one letter of its own ("вера", "иван", "γιάννης") is not one.
 */
function passesForLatin(loginId: string, scripts: ReadonlySet<string>): boolean {
  if (PHONETIC.test(loginId)) return true;
  const [script] = scripts;
  const looks = scripts.size === 1 && script !== undefined ? LATIN_LOOKING[script] : undefined;
  if (!looks) return false;
  return [...loginId].every((c) => NEUTRAL.test(c) || looks.test(c));
}

export type UserField = "loginId" | "fullName" | "partnerNumber";

/** A field that breaks its limit, and the rule's words ("the login ID must be …"). */
export interface UserFieldProblem {
  field: UserField;
  message: string;
}

/**
 * The same limits for every way a user is made (add, import, the console): printable, bounded,
 * non-empty. Every field is checked, so a form can say all that is wrong at once (WCAG 3.3.1).
 */
export function userFieldProblems(fields: { loginId: string; fullName: string; partnerNumber: string }, options: { newLoginId?: boolean } = {}): UserFieldProblem[] {
  const problems: UserFieldProblem[] = [];
  const loginId = loginIdProblem(fields.loginId.trim(), options.newLoginId ?? true);
  if (loginId) problems.push({ field: "loginId", message: loginId });
  const name = fields.fullName.trim();
  if (name === "" || name.length > 200 || hasControlCharacters(name)) problems.push({ field: "fullName", message: "the full name must be 1 to 200 printable characters" });
  else if (hasInvisibleCharacters(name)) problems.push({ field: "fullName", message: "the full name must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)" });
  const partner = partnerNumberProblem(fields.partnerNumber.trim());
  if (partner) problems.push({ field: "partnerNumber", message: partner });
  return problems;
}

/**
 * Each partner-number problem in the two forms it is said in: as a clause ("the partner number must
 * …", the command line and the user fields) and as a sentence (the rollout form's).
 */
const PARTNER_PROBLEMS = {
  format: ["the partner number must be 1 to 32 letters, digits or dashes", "The partner number must be 1 to 32 letters, digits or dashes."],
  reserved: [
    'the partner number must not be "all" or "default": the rollout names its total row and its default start so',
    'The partner number must not be "all" or "default": the rollout names its total row and its default start so.',
  ],
} as const;

/**
 * The rollout's CSV and plan table end with the total row "all", and its audit events name the
 * default start "default": a partner so numbered would read as either. Any case, as a spreadsheet's
 * filter matches "ALL" to "all".
 */
const RESERVED_PARTNER_NUMBERS: ReadonlySet<string> = new Set(["all", "default"]);

/**
 * The one check of a partner number (trimmed), for every place one is typed: making or importing a
 * user, a rollout wave (console and `famos rollout plan`) and `famos rollout announce --partner`.
 */
export function partnerNumberProblem(partner: string, form: "clause" | "sentence" = "clause"): string | null {
  const say = (problem: keyof typeof PARTNER_PROBLEMS) => PARTNER_PROBLEMS[problem][form === "clause" ? 0 : 1];
  if (!/^[A-Za-z0-9-]{1,32}$/.test(partner)) return say("format");
  return RESERVED_PARTNER_NUMBERS.has(partner.toLowerCase()) ? say("reserved") : null;
}

function loginIdProblem(loginId: string, newLoginId: boolean): string | null {
  if (loginId === "" || loginId.length > 128) return "the login ID must be 1 to 128 characters";
  if (hasControlCharacters(loginId) || /\s/.test(loginId)) return "the login ID must not contain spaces or control characters";
  return newLoginId ? newLoginIdProblem(loginId) : null;
}

const OPERATOR_LOOKALIKE = `the login ID must not begin with "operator:", which the audit trail uses for the command line's operators`;

/**
 * Every variation selector (U+FE00–U+FE0F, U+E0100–U+E01EF, Mongolian U+180B–U+180D, U+180F), the
 * ones hasInvisibleCharacters takes after a pictograph too: "jane❤" and "jane❤️" would be two
 * accounts (login keys keep it: NFC does not take it out) that look alike on the console and in a mail.
 */
const VARIATION_SELECTOR = /[\uFE00-\uFE0F\u{E0100}-\u{E01EF}\u180B-\u180D\u180F]/u;

/**
 * The rules for the login ID of an account being made, which accounts made before them escape: no
 * invisible character (hasInvisibleCharacters), no variation selector, even one a pictograph shows
 * (VARIATION_SELECTOR), no look-alike (lookAlikeProblem), and no start the command line's actor has
 * (OPERATOR_PREFIX, in any case: "operator:root" would read as an operator on the trail and to the claims). `user add` and the
 * console ask them with the other fields (userFieldProblems); the import asks them only of rows that
 * would make an account (support/import-users.ts, refusedNewcomers), since a row naming an account
 * made before a rule ("anna" with U+FE0F, "јре" in Cyrillic) is that account's.
 */
export function newLoginIdProblem(loginId: string): string | null {
  if (loginKey(loginId).startsWith(OPERATOR_PREFIX)) return OPERATOR_LOOKALIKE;
  if (hasInvisibleCharacters(loginId) || VARIATION_SELECTOR.test(loginId)) return "the login ID must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)";
  return lookAlikeProblem(loginId);
}

/**
 * The first of userFieldProblems, for a command line or an import row that names one reason. An
 * import leaves out the rules for new login IDs (`newLoginId: false`, newLoginIdProblem) and asks them
 * only of rows that would make an account.
 */
export function userFieldProblem(fields: { loginId: string; fullName: string; partnerNumber: string }, options: { newLoginId?: boolean } = {}): string | null {
  return userFieldProblems(fields, options)[0]?.message ?? null;
}
