import fc from "fast-check";

/** The steps of a sign-in a fuzzed request is sent from (the client's cookies and CSRF token). */
export const STAGES = ["anonymous", "enrol", "otp", "password", "user", "support", "admin"] as const;
export type Stage = (typeof STAGES)[number];

export type BodyKind = "form" | "json" | "broken-json" | "multipart" | "text" | "no-type" | "form-utf16" | "two-types" | "none";
export type CookieKind = "as-is" | "none" | "session-twice-junk-first" | "session-twice-junk-last" | "oversized" | "broken" | "junk-lang" | "unsigned-device";

/** One fuzzed request, as data: printed on failure, and re-made from the seed and its index. */
export interface FuzzCase {
  stage: Stage;
  /** Send from a step the route serves (most cases), rather than from `stage`. */
  matchStage: boolean;
  /** An index into the app's route table (modulo its length), or -1 for an address no route has. */
  route: number;
  /** "route": the route's own method; else this method instead. */
  method: string;
  /** Fills every `:param` of the route, as sent on the wire (may hold bad escapes and raw bytes). */
  param: string | "target";
  query: string | null;
  body: BodyKind;
  fields: Array<[string, string]>;
  /** Use the fields the route's forms have (when read from a page yet), with these values in turn. */
  ownFields: boolean;
  values: string[];
  csrf: "right" | "none" | "wrong" | "twice";
  cookies: CookieKind;
  acceptLanguage: string | null;
  host: string | null;
  origin: string | null;
  referer: string | null;
  accept: string | null;
}

/** Values a hostile or careless client sends in a field: the properties test's, and bytes that are no text. */
const VALUES = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 1025, maxLength: 1100 }) },
  { weight: 1, arbitrary: fc.constant("x".repeat(70_000)) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "", " ", "123456", "000000", "-1", "0", "99999999999999999999999", "1e309", "NaN", "true", "on", "user", "support", "admin", "root",
      "de", "fr", "xx", "Europe/London", "Mars/Base", "2026-13-45T25:61", "31/02/2026 25:00", "a@b.example", "info@dealer.example",
      "a@b.example\r\nBcc: c@d.example", "../../etc/passwd", "<script>alert(1)</script>", "' OR '1'='1", "=cmd|' /C calc'!A0", "\uFEFF",
      "\uD800", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "{}", "[]", "__proto__", "constructor", "%", "%E0%A4%A", "%FF%FE", "%00", "%C0%AF", "\u202Eevil",
      // Values that pass a field's own check, so that the handler behind it runs.
      "Jane Smith", "01234", "correct horse battery staple", "a much longer new passphrase", "T-1", "yes", "Europe/Berlin", "2026-12-24T09:00",
      "2026-03-29T01:30", "2026-10-25T01:30", "+275760-09-13T00:00", "0000-01-01T00:00", "2026-02-30T10:00", "1", "2", "fuzz-target-sqlite",
      "fuzz-target-postgres", "new.user@dealer.example", "someone@dealer.example", '{"id":"x","rawId":"x","type":"public-key","response":{}}',
    ),
  },
);

/** A form field's name: one FAMOS's forms use (most of the time), or one no form has. */
const fieldName = (names: readonly string[]) =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom("unexpected", "__proto__", "constructor", "a[b]", "", "x".repeat(300), "%FF", "_csrf") });

const PARAMS = fc.constantFrom(
  "target", "target", "target", "abc", "-1", "0", "1", "99999999999999999999999999", "1.5", "1e3", "0x10", "%E0%A4%A", "%FF", "%C3%28",
  "%00", "%2e%2e%2f%2e%2e%2fetc", "..", "%20", "x".repeat(250), "%C3%BC%C3%B1%C3%AF", "\xff\xfe", "a%2Fb", "null", "undefined",
);

const QUERIES = fc.oneof(
  fc.constant(null),
  fc.constantFrom(
    "q=%E0%A4%A", "q=%FF", "returnTo=//evil.example/", "returnTo=https%3A%2F%2Fevil.example", "returnTo=%2F%2F%5Cevil.example", "lang=xx", "lang=de",
    "lang=de&lang=fr", "q=a&q=b", "q[]=1&q[]=2", "__proto__[x]=1", "constructor=1", "page=-1", "page=99999999999999999999", "page=abc",
    "since=2026-13-45", "since=9999-99-99T99:99", "until=-1", "user=%00", "event=" + "e".repeat(5000), "%", "&&&==&", "q=" + "%41".repeat(3000),
    "signedOut=1&signedOut=2", "id=1%20OR%201=1", "x=\xff\xfe",
  ),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s) + "=" + encodeURIComponent(s)),
);

const LANGUAGES = fc.constantFrom(
  null, null, "de-DE,de;q=0.9,en;q=0.5", "fr-CH", "nl", "it;q=0.8,en;q=0.1", "es-419", "en-US", "zz-ZZ", "*;q=abc, ;;, -,, zz-ZZZZZZZZZ;q=1e999",
  "de;q=0, fr", "x".repeat(9000), "de," + "en-GB;q=0.5,".repeat(800), "\xff\xfe", "__proto__", "en-GB;q=NaN, de;q=-1",
);

/** null: the right host; "(none)": no Host header; "(twice)": the right one and another (RFC 9112 §3.2 asks for exactly one). */
const HOSTS = fc.constantFrom(null, null, null, null, "(none)", "(twice)", "a b", "localhost:99999", "user@evil.example", "evil.example", "x".repeat(2000), "[::1", "%ff", "");
const ORIGINS = fc.constantFrom(null, null, null, null, null, "right", "right", "right", "right", "right", "https://evil.example", "null", "\xff", "http://localhost:3000.evil.example", "x".repeat(3000));
const REFERERS = fc.constantFrom(null, null, "https://evil.example/", "javascript:alert(1)", "\xff\xfe", "/relative", "x".repeat(3000));
const ACCEPTS = fc.constantFrom(null, "text/html", "application/json", "*/*", "application/json;q=abc, */*", "\xff", "text/html;q=0, application/json");
const METHODS = fc.constantFrom(...Array<string>(20).fill("route"), "HEAD", "OPTIONS", "GET", "POST", "PUT", "DELETE", "PATCH", "PROPFIND", "BREW", "TRACE");

/** A query string of the names FAMOS's pages read, each with a fuzzed value (the name repeated at times). */
const namedQuery = (queryNames: readonly string[]) =>
  fc.array(fc.tuple(fc.constantFrom(...queryNames), VALUES), { minLength: 1, maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${k}=${percentEncode(v.slice(0, 5000))}`).join("&"));

/** Percent-encodes a value, lone surrogates as their UTF-8 replacement; an escape already written goes raw. */
export function percentEncode(value: string): string {
  if (value.startsWith("%")) return value;
  return [...Buffer.from(value, "utf8")].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
}

export function fuzzCases(fieldNames: readonly string[], queryNames: readonly string[]): fc.Arbitrary<FuzzCase> {
  return fc.record({
    stage: fc.constantFrom(...STAGES),
    matchStage: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    route: fc.oneof({ weight: 12, arbitrary: fc.nat(10_000) }, { weight: 1, arbitrary: fc.constant(-1) }),
    method: METHODS,
    param: PARAMS,
    query: fc.oneof(QUERIES, namedQuery(queryNames)),
    body: fc.constantFrom<BodyKind>("form", "form", "form", "form", "json", "broken-json", "multipart", "text", "no-type", "form-utf16", "two-types", "none"),
    fields: fc.array(fc.tuple(fieldName(fieldNames), VALUES), { maxLength: 6 }),
    ownFields: fc.boolean(),
    values: fc.array(VALUES, { minLength: 1, maxLength: 6 }),
    csrf: fc.constantFrom("right", "right", "right", "right", "right", "right", "none", "wrong", "twice"),
    cookies: fc.constantFrom<CookieKind>("as-is", "as-is", "as-is", "none", "session-twice-junk-first", "session-twice-junk-last", "oversized", "broken", "junk-lang", "unsigned-device"),
    acceptLanguage: LANGUAGES,
    host: HOSTS,
    origin: ORIGINS,
    referer: REFERERS,
    accept: ACCEPTS,
  });
}

/** The steps a route with this access serves (support's console serves admins too). */
export function stagesFor(access: string | undefined): readonly Stage[] {
  switch (access) {
    case "enrol":
    case "otp":
    case "password":
      return [access];
    case "full":
      return ["user", "support", "admin"];
    case "support":
      return ["support", "admin"];
    case "admin":
      return ["admin"];
    default:
      return STAGES;
  }
}

/** The cases of a run: `count` of them from `seed`, the same ones on every machine. */
export function sampleCases(fieldNames: readonly string[], queryNames: readonly string[], seed: number, count: number): FuzzCase[] {
  return fc.sample(fuzzCases(fieldNames, queryNames), { seed, numRuns: count });
}
