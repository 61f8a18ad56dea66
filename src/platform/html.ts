import { randomUUID } from "node:crypto";

/**
 * HTML by tagged template, escaping by default: every interpolated value is escaped unless it is
 * itself the result of `html`. This keeps user input (names, addresses, notices) inert everywhere.
 */
export class SafeHtml {
  /**
   * `marked`: the HTML with each kept part (keptPart's, and every run of characters past U+00FF) as its
   * marker; `parts`: those parts in the order of their markers, carried to `pageBytes`.
   */
  constructor(
    readonly marked: string,
    readonly parts?: readonly KeptBytes[],
  ) {}
  /** The HTML as text (a mail's body, a JSON answer's part): each marker's part put back. */
  get value(): string {
    return this.parts === undefined ? this.marked : resolveParts(this.marked, this.parts);
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

const SPECIAL = /[&<>"']/;

export function escapeHtml(text: string): string {
  // Most values (times, addresses, words from the catalogue) have nothing to escape: a test is half
  // the cost of a replace that finds nothing (issue 17: a Profile page escapes hundreds).
  return SPECIAL.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : text;
}

type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

/** The kept parts met by the `html` call being made (render never calls html: its values are made before). */
let gathered: KeptBytes[] | undefined;

/** A value's text needs work: a character to escape, or one past U+00FF to keep as a part (one test for both). */
const SPECIAL_OR_WIDE = /[&<>"'\u0100-\uffff]/;

function render(value: Value): string {
  if (value === null || value === undefined || value === false || value === true) return "";
  if (value instanceof SafeHtml) return gather(value);
  if (Array.isArray(value)) return value.map(render).join("");
  const text = String(value);
  return SPECIAL_OR_WIDE.test(text) ? gather(markWide(escapeHtml(text))) : text;
}

/** `value`'s marked text, its parts noted for the `html` call being made. */
function gather(value: SafeHtml): string {
  if (value.parts !== undefined) (gathered ??= []).push(...value.parts);
  return value.marked;
}

/** Each template's constant strings, with their wide runs marked, made once (a template's strings are one frozen array). */
const markedStrings = new WeakMap<TemplateStringsArray, readonly SafeHtml[] | null>();

function templateStrings(strings: TemplateStringsArray): readonly SafeHtml[] | null {
  let marked = markedStrings.get(strings);
  if (marked === undefined) {
    marked = strings.some((s) => WIDE.test(s)) ? strings.map(markWide) : null;
    markedStrings.set(strings, marked);
  }
  return marked;
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  gathered = undefined;
  const marked = templateStrings(strings);
  let out: string;
  if (marked === null) {
    out = strings[0]!;
    for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  } else {
    out = gather(marked[0]!);
    for (let i = 0; i < values.length; i++) {
      out += render(values[i]!);
      out += gather(marked[i + 1]!);
    }
  }
  const parts = gathered;
  gathered = undefined;
  return new SafeHtml(out, parts);
}

/** Marks text that is already HTML. Only for constants and trusted output of `html`. */
export function unsafeRaw(text: string): SafeHtml {
  return markWide(text);
}

/**
 * A catalogue message with values put in (the translator's `html`): trusted HTML, its values escaped or
 * SafeHtml given as their marked text, whose parts it carries.
 */
export function messageHtml(text: string, inner: readonly SafeHtml[]): SafeHtml {
  const marked = markWide(text);
  const parts = inner.flatMap((v) => v.parts ?? []);
  if (parts.length === 0) return marked;
  return new SafeHtml(marked.marked, [...parts, ...(marked.parts ?? [])]);
}

/**
 * Large parts of pages that are the same on many answers (the Profile's 400-odd time zones, per
 * language and saved zone), kept as UTF-8 bytes (issue 17): the page's string carries a marker in a
 * part's place and `pageBytes` splices the bytes in, so the part is not widened to two-byte, measured
 * and encoded again on every answer. A marker holds a random nonce of this process, which no escaped
 * text can stand for. At most `PARTS_KEPT` keys; past that the store starts again (as Kept). The page
 * itself carries the parts it holds (SafeHtml.parts, gathered by `html` from its values), so a page
 * rendered and sent across any number of new starts of the store still finds them: no per-request
 * state (issue 17: no AsyncLocalStorage), a few array operations on pages that hold a part.
 */
export interface KeptBytes {
  readonly id: number;
  readonly bytes: Buffer;
  /** The part as text, when kept (a wide run's); else read from `bytes`. */
  readonly text?: string;
}
// It begins with U+0001, not U+0000: V8 looks for a pattern's first character with memchr, but for a
// U+0000 in a two-byte page it steps through the page a character at a time, 76 k instructions per
// sign-in for three pages without a part (callgrind, the fortieth round). A marker still ends with U+0000.
const PART_MARK = `\u0001part-${randomUUID()}-`;
const PARTS_KEPT = 256;
const partIds = new Map<string, number>();
// Two generations: a page rendered just before the store starts again still finds its parts.
let partBytes = new Map<number, Buffer>();
let olderPartBytes = new Map<number, Buffer>();
let nextPart = 0;

/** The part made by `make` for `key`, encoded once; in a page it is its marker until `pageBytes`. */
export function keptPart(key: string, make: () => SafeHtml): SafeHtml {
  let id = partIds.get(key);
  if (id === undefined) {
    const bytes = Buffer.from(make().value, "utf8");
    if (partIds.size >= PARTS_KEPT) {
      partIds.clear();
      olderPartBytes = partBytes;
      partBytes = new Map();
    }
    id = nextPart++;
    partIds.set(key, id);
    partBytes.set(id, bytes);
  }
  const bytes = partBytes.get(id)!;
  return new SafeHtml(`${PART_MARK}${id}\u0000`, [{ id, bytes }]);
}

/**
 * Characters past U+00FF (the title's "–", the catalogues' curly quotes, a name in Greek) are kept as
 * parts too, each run of them as its UTF-8 bytes (issue 17): one such character in a page made V8 hold
 * the whole page as UTF-16, and measuring and encoding a two-byte page to UTF-8 as it is sent costs
 * 2.5 times a one-byte one's. A run that begins with a low surrogate or ends with a high one stays in
 * the text (rare: only broken text has one), so a surrogate pair is never split between a part and
 * the text beside it and the bytes sent are exactly those of the page encoded whole.
 */
const WIDE = /[\u0100-\uffff]+/;
const WIDE_RUNS = /[\u0100-\uffff]+/g;
/** The short runs met (punctuation: "’", "–", "…"), each with one marker and its bytes; at most RUNS_KEPT. */
const RUNS_KEPT = 256;
const runParts = new Map<string, { marker: string; part: KeptBytes }>();

function runPart(run: string): { marker: string; part: KeptBytes } {
  let kept = runParts.get(run);
  if (kept === undefined) {
    const id = nextPart++;
    kept = { marker: `${PART_MARK}${id}\u0000`, part: { id, bytes: Buffer.from(run, "utf8"), text: run } };
    // Only short runs are kept (the catalogues' punctuation), not the text a user typed.
    if (run.length <= 2) {
      if (runParts.size >= RUNS_KEPT) runParts.clear();
      runParts.set(run, kept);
    }
  }
  return kept;
}

const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;
const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;

/** `text` (HTML) with each run of characters past U+00FF as a part's marker; one-byte once every run is a part. */
function markWide(text: string): SafeHtml {
  if (!WIDE.test(text)) return new SafeHtml(text);
  const parts: KeptBytes[] = [];
  let allKept = true;
  const marked = text.replace(WIDE_RUNS, (run) => {
    if (isLow(run.charCodeAt(0)) || isHigh(run.charCodeAt(run.length - 1))) {
      allKept = false;
      return run;
    }
    const { marker, part } = runPart(run);
    parts.push(part);
    return marker;
  });
  // The replace's answer is two-byte like its subject even with every wide character gone: copied
  // through Latin-1 it becomes one-byte (every character left is below U+0100).
  return new SafeHtml(allKept ? Buffer.from(marked, "latin1").toString("latin1") : marked, parts.length > 0 ? parts : undefined);
}

/** The part whose marker names `id`: the page's own list, the next one in it first, else the store. */
function partFor(id: number, own: readonly KeptBytes[] | undefined, next: number): KeptBytes | Buffer {
  const first = own?.[next];
  if (first?.id === id) return first;
  const part = own?.find((p) => p.id === id) ?? partBytes.get(id) ?? olderPartBytes.get(id);
  if (part === undefined) throw new Error("pageBytes: a kept part is gone");
  return part;
}

/** `marked` cut at its markers: the text between them and each marker's part, in order; null without any. */
function pieces(marked: string, own: readonly KeptBytes[] | undefined): (string | KeptBytes | Buffer)[] | null {
  let found = marked.indexOf(PART_MARK);
  if (found < 0) return null;
  const out: (string | KeptBytes | Buffer)[] = [];
  let from = 0;
  let count = 0;
  while (found >= 0) {
    const end = marked.indexOf("\u0000", found + PART_MARK.length);
    if (found > from) out.push(marked.slice(from, found));
    out.push(partFor(Number(marked.slice(found + PART_MARK.length, end)), own, count++));
    from = end + 1;
    found = marked.indexOf(PART_MARK, from);
  }
  if (from < marked.length) out.push(marked.slice(from));
  return out;
}

const bytesOf = (part: KeptBytes | Buffer) => (Buffer.isBuffer(part) ? part : part.bytes);

function resolveParts(marked: string, own: readonly KeptBytes[]): string {
  const cut = pieces(marked, own);
  if (cut === null) return marked;
  let out = "";
  for (const piece of cut) out += typeof piece === "string" ? piece : Buffer.isBuffer(piece) ? piece.toString("utf8") : (piece.text ?? piece.bytes.toString("utf8"));
  return out;
}

/**
 * A page as sent (the app's onSend hook): its string, or, when it holds kept parts, its bytes with each
 * part put back: from the parts the page carries (`own`, SafeHtml.parts) first, else the store. Written
 * into one buffer, never measured first: the text between markers has no character past U+00FF but in
 * a run kept in the text (markWide), so 3 bytes per UTF-16 unit bound it.
 */
export function pageBytes(page: string, own?: readonly KeptBytes[]): string | Buffer {
  const cut = pieces(page, own);
  if (cut === null) return page;
  let size = 0;
  for (const piece of cut) size += typeof piece === "string" ? 3 * piece.length : bytesOf(piece).length;
  const out = Buffer.allocUnsafe(size);
  let length = 0;
  for (const piece of cut) length += typeof piece === "string" ? out.write(piece, length, "utf8") : bytesOf(piece).copy(out, length);
  return out.subarray(0, length);
}
