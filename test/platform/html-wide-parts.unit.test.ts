import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { html, pageBytes, SafeHtml, unsafeRaw } from "../../src/platform/html.ts";

/**
 * Issue 17: `html` keeps every run of characters past U+00FF as a part (its UTF-8 bytes, spliced in
 * by `pageBytes`), so that pages are one-byte strings. Escaping and the bytes sent must be exactly
 * what the renderer did before: the reference below is that renderer (the whole page as one string,
 * each value escaped), and every property compares with it.
 */
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
type Plain = string | number | null | undefined | boolean | { html: Plain[]; strings: string[] } | Plain[];

/** The earlier renderer: constants as they are, values escaped, nested HTML as it is. */
function reference(strings: readonly string[], values: readonly Plain[]): string {
  const one = (v: Plain): string => {
    if (v === null || v === undefined || v === true || v === false) return "";
    if (Array.isArray(v)) return v.map(one).join("");
    if (typeof v === "object") return reference(v.strings, v.html);
    return String(v).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
  };
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += one(values[i]!) + strings[i + 1]!;
  return out;
}

/** The same through `html` (a template's strings as the frozen array a tagged template passes). */
function rendered(strings: readonly string[], values: readonly Plain[]): SafeHtml {
  const one = (v: Plain): Parameters<typeof html>[1] => (Array.isArray(v) ? v.map(one) : v !== null && typeof v === "object" ? rendered(v.strings, v.html) : v);
  const template = Object.freeze(Object.assign([...strings], { raw: [...strings] })) as unknown as TemplateStringsArray;
  return html(template, ...values.map(one));
}

// Text as users type it and as catalogues hold it: markup and quotes, Latin-1, curly quotes and
// dashes, four-byte characters, combining marks, right-to-left text, control characters, and lone
// surrogates (text broken by a client), also at the edges where a value meets its template.
const pieces = fc.constantFrom("<", ">", "&", '"', "'", "é", "ß", "\u00ff", "\u0100", "’", "“", "–", "…", "\u202f", "😀", "e\u0301", "\u05e9\u05dc", "\u202e", "\u0000", "\u0001", "\u0007", "\ud800", "\udc00", "\ud83d", "\ude00", "a", " ", "part-", "\ufffd", "\uffff");
const text = fc.oneof(fc.array(pieces, { maxLength: 12 }).map((p) => p.join("")), fc.string({ unit: "binary", maxLength: 20 }), fc.string({ unit: "binary-ascii", maxLength: 8 }));
const leaf: fc.Arbitrary<Plain> = fc.oneof(text, fc.integer(), fc.constantFrom(null, undefined, true, false));
const { value: plain } = fc.letrec<{ value: Plain }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.integer({ min: 0, max: 3 }).chain((n) => fc.record({ strings: fc.array(text, { minLength: n + 1, maxLength: n + 1 }), html: fc.array(tie("value"), { minLength: n, maxLength: n }) })),
  ),
}));
const template = fc.integer({ min: 0, max: 4 }).chain((n) => fc.tuple(fc.array(text, { minLength: n + 1, maxLength: n + 1 }), fc.array(plain, { minLength: n, maxLength: n })));

function sent(page: SafeHtml): Buffer {
  const bytes = pageBytes(page.marked, page.parts);
  return typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
}

describe("characters past U+00FF kept as parts (platform/html.ts)", () => {
  it("sends the bytes the earlier renderer sent, and gives its text, for any templates and values", () => {
    fc.assert(
      fc.property(template, ([strings, values]) => {
        const page = rendered(strings, values);
        const whole = reference(strings, values);
        expect(page.value).toBe(whole);
        expect(String(page)).toBe(whole);
        expect(sent(page).toString("hex")).toBe(Buffer.from(whole, "utf8").toString("hex"));
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps a page one-byte: no character past U+00FF is left in the page's string when its text has no broken surrogates", () => {
    fc.assert(
      fc.property(template, ([strings, values]) => {
        const page = rendered(strings, values);
        if (/[\ud800-\udfff]/.test(page.value)) return;
        expect(/[^\x00-\xff]/.test(page.marked)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("escapes hostile values wherever they stand, and no typed text can stand for a part", () => {
    const hostile = [`<script>alert("x")</script>’`, `" onfocus="alert(1)" x="–`, `'><img src=x onerror=alert(1)>😀`, "&lt;b&gt;\u0000\u0001part-", `</title><script>…</script>`];
    for (const value of hostile) {
      const page = html`<title>${value} – FAMOS</title><input value="${value}"><p>${[value, html`<b>${value}</b>`]}</p>`;
      expect(page.value).not.toMatch(/<script>|<img|" onfocus|'>/);
      expect(sent(page).toString("utf8")).toBe(page.value);
    }
    // A marker is never sent (its nonce is this process's secret): one typed with another nonce is text.
    const marker = html`<i>’</i>`.marked.slice(3, -4).replace(/-[0-9a-f-]{36}-/, "-00000000-0000-0000-0000-000000000000-");
    expect(marker).toMatch(/^\u0001part-0{8}-/);
    const typed = html`<p>${marker}</p>`;
    expect(sent(typed).toString("utf8")).toBe(`<p>${marker}</p>`);
  });

  it("gives trusted HTML (unsafeRaw) and the text of a page with parts the same way", () => {
    const raw = unsafeRaw("<b>l’été – “ok” 😀</b>");
    expect(raw.value).toBe("<b>l’été – “ok” 😀</b>");
    expect(/[^\x00-\xff]/.test(raw.marked)).toBe(false);
    expect(sent(html`<p>${raw}</p>`).toString("utf8")).toBe("<p><b>l’été – “ok” 😀</b></p>");
    // A page with no wide character carries no parts and is sent as its string.
    expect(html`<p>${"é & ß"}</p>`.parts).toBeUndefined();
    expect(pageBytes(html`<p>${"é & ß"}</p>`.marked)).toBe("<p>é &amp; ß</p>");
  });
});
