import { randomUUID } from "node:crypto";

/**
 * HTML by tagged template, escaping by default: every interpolated value is escaped unless it is
 * itself the result of `html`. This keeps user input (names, addresses, notices) inert everywhere.
 */
export class SafeHtml {
  /** `parts`: the kept parts (keptPart) whose markers `value` holds, carried to `pageBytes`. */
  constructor(
    readonly value: string,
    readonly parts?: readonly KeptBytes[],
  ) {}
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

function render(value: Value): string {
  if (value === null || value === undefined || value === false || value === true) return "";
  if (value instanceof SafeHtml) {
    if (value.parts !== undefined) (gathered ??= []).push(...value.parts);
    return value.value;
  }
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  gathered = undefined;
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  const parts = gathered;
  gathered = undefined;
  return new SafeHtml(out, parts);
}

/** Marks text that is already HTML. Only for constants and trusted output of `html`. */
export function unsafeRaw(text: string): SafeHtml {
  return new SafeHtml(text);
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
}
// It begins with U+0001, not U+0000: V8 looks for a pattern's first character with memchr, but for a
// U+0000 in a two-byte page (the layout's "–" makes every page one) it steps through the page a
// character at a time, 76 k instructions per sign-in for three pages without a part (callgrind, the
// fortieth round). A marker still ends with U+0000.
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
 * A page as sent (the app's onSend hook): its string, or, when it holds kept parts, its bytes with each
 * part put back: from the parts the page carries (`own`, SafeHtml.parts) first, else the store.
 */
export function pageBytes(page: string, own?: readonly KeptBytes[]): string | Buffer {
  let at = page.indexOf(PART_MARK);
  if (at < 0) return page;
  const chunks: Buffer[] = [];
  let from = 0;
  while (at >= 0) {
    const end = page.indexOf("\u0000", at + PART_MARK.length);
    const id = Number(page.slice(at + PART_MARK.length, end));
    const bytes = own?.find((p) => p.id === id)?.bytes ?? partBytes.get(id) ?? olderPartBytes.get(id);
    if (!bytes) throw new Error("pageBytes: a kept part is gone");
    chunks.push(Buffer.from(page.slice(from, at), "utf8"), bytes);
    from = end + 1;
    at = page.indexOf(PART_MARK, from);
  }
  chunks.push(Buffer.from(page.slice(from), "utf8"));
  return Buffer.concat(chunks);
}
