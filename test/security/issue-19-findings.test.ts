import { describe, expect, it } from "vitest";
import { checkImportFile } from "../../src/cli/import-file.ts";
import { loadConfig } from "../../src/config/config.ts";
import { userFieldProblem } from "../../src/users/fields.ts";
import { checkEmailEntry } from "../../src/enrolment/email-rules.ts";
import { guardFormula } from "../../src/support/audit-csv.ts";
import { detailText } from "../../src/web/pages/audit-detail.ts";
import { translator } from "../../src/i18n/translator.ts";
import { isIdentityHeaderName, upstreamRequestHeaders, upstreamResponseHeaders } from "../../src/web/upstream-headers.ts";
import { bcryptHash, csvField, djangoPbkdf2, HEADER } from "../cli/import-fixtures.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/** Regression tests for the outside test's findings (issue 19, items 3 and 7). */

const ENROLMENT = { allowedDomains: [] as string[], sharedMailboxPolicy: "off" as const, sharedMailboxNames: [] as string[] };
/** A user's tag on the application's cookie names (applicationCookieTag: 12 base64url characters). */
const TAG = "Tg0123456789";
const enter = (email: string, allowedDomains: string[]) => checkEmailEntry({ email, confirmEmail: email, ownMailbox: true }, { ...ENROLMENT, allowedDomains });

describe("issue 19.7: the upstream header filter", () => {
  it("drops every header whose name, without its non-alphanumerics, starts with xfamos", () => {
    for (const name of ["x-famos-role", "x_famos_role", "x-famos.role", "x.famos.login.id", "xfamosrole", "x--famos--name", "x-famos~partner", "X-FAMOS-IMPERSONATE"]) {
      expect(isIdentityHeaderName(name), name).toBe(true);
    }
    for (const name of ["x-forwarded-for", "x-fa-mo", "famos-role", "accept", "x-requested-with"]) expect(isIdentityHeaderName(name), name).toBe(false);
  });

  it("sends the application only FAMOS's own identity, whatever the client spelled", () => {
    const forged = { "x-famos.role": "admin", "x.famos.login.id": "root", "x_famos_name": "Mallory", host: "famos.test" };
    const sent = upstreamRequestHeaders(forged, { login_id: "jsmith", full_name: "Jane Smith", partner_number: "01234", role: "user" }, TAG);
    expect(Object.keys(sent).filter(isIdentityHeaderName).sort()).toEqual(["x-famos-login-id", "x-famos-name", "x-famos-partner", "x-famos-role"]);
    expect(sent["x-famos-role"]).toBe("user");
    expect(sent["x-famos.role"]).toBeUndefined();
    expect(sent["x.famos.login.id"]).toBeUndefined();
    expect(sent.host).toBe("famos.test");
  });
});

describe("issue 19.4: the application's answers", () => {
  it("never set FAMOS's cookies, whatever their prefix or case; the application's own pass", () => {
    const headers = upstreamResponseHeaders(
      { "set-cookie": ["famos_session=planted; Path=/", "__Host-famos_session=x; Path=/; Secure", "__Secure-FAMOS_csrf=y", " famos_section=z", "theme=dark; Path=/"] },
      ["allow-scripts"],
      TAG,
    );
    expect(headers["set-cookie"]).toEqual([`theme.${TAG}=dark; Path=/`]);
    expect(upstreamResponseHeaders({ "set-cookie": ["famos_session=planted"] }, [], TAG)["set-cookie"]).toBeUndefined();
  });

  it("run in a sandbox beside the application's own policy, never with allow-same-origin by default", () => {
    expect(upstreamResponseHeaders({}, ["allow-scripts", "allow-forms"], TAG)["content-security-policy"]).toEqual(["sandbox allow-scripts allow-forms"]);
    expect(upstreamResponseHeaders({ "content-security-policy": "default-src 'self'" }, [], TAG)["content-security-policy"]).toEqual(["default-src 'self'", "sandbox"]);
    const defaults = loadConfig({});
    expect(defaults.ok && defaults.config.upstreamSandbox).not.toContain("allow-same-origin");
    expect(loadConfig({ FAMOS_UPSTREAM_SANDBOX: "allow-scripts allow-everything" })).toMatchObject({ ok: false, errors: [expect.stringMatching(/^FAMOS_UPSTREAM_SANDBOX: "allow-everything" is not a sandbox keyword/)] });
  });
});

describe("issue 19.7: allowed email domains and source-routed local parts", () => {
  it("refuses % and ! in the local part when a domain policy is set", () => {
    for (const email of ["a%evil.example@dealer.example", "x!y@dealer.example", "evil.example!x@dealer.example"]) {
      const check = enter(email, ["dealer.example"]);
      expect(check, email).toMatchObject({ ok: false, problem: "domain-not-allowed" });
    }
    expect(enter("jane.smith+otp@dealer.example", ["dealer.example"]).ok).toBe(true);
  });

  it("leaves them alone without a domain policy (the WHATWG rule allows both)", () => {
    expect(enter("a%b@dealer.example", []).ok).toBe(true);
    expect(enter("x!y@dealer.example", []).ok).toBe(true);
  });
});

describe("issue 19.7: the CSV formula guard", () => {
  it("catches formulas behind leading white space and full-width signs", () => {
    const hostile = [" =1+1", "\u00a0=HYPERLINK(\"http://evil.example\")", "\n=1", "\t=1", "\r=1", "\u3000+1", "＝1+1", "＋1", "－1", "＠SUM(A1)", "  \u00a0 -2", "\n"];
    for (const value of hostile) expect(guardFormula(value), JSON.stringify(value)).toBe(`'${value}`);
  });

  it("leaves ordinary text alone", () => {
    for (const value of [" Jane Smith", "a = b", "１２３", "\u00a0x", "race3", ""]) expect(guardFormula(value), JSON.stringify(value)).toBe(value);
  });

  it("looks past leading zero-width and other invisible characters, a BOM and white space, to = + - @ or a tab or CR", () => {
    const invisible = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\u061c", "\u180e", "\u034f", "\u115f", "\u3164", "\uffa0"];
    const starts = ["=", "+", "-", "@", "\t", "\r", "＝"];
    for (const c of invisible) {
      for (const start of starts) {
        for (const value of [`${c}${start}1+1`, ` ${c}${start}1`, `${c}\u00a0${c}${start}1`]) expect(guardFormula(value), JSON.stringify(value)).toBe(`'${value}`);
      }
    }
    for (const value of ["\u200bJane Smith", "\ufeffx", "Jane\u200b=1", "\u200b", "a\t=1"]) expect(guardFormula(value), JSON.stringify(value)).toBe(value);
  });

  it("looks past leading control characters (NEL, the rest of C0 and C1) and the braille blank, in any mix with the others", () => {
    const unseen = ["\u0085", "\u0000", "\u0001", "\u0008", "\u000b", "\u000c", "\u001b", "\u001f", "\u007f", "\u0080", "\u009b", "\u009f", "\u2800"];
    for (const c of unseen) {
      for (const start of ["=", "+", "-", "@", "\t", "\r", "\n", "＠"]) {
        for (const value of [`${c}${start}1`, `${c}${c}${start}1`, ` ${c}\u200b${start}1`, `\u200b${c}\u00a0${start}1`]) expect(guardFormula(value), JSON.stringify(value)).toBe(`'${value}`);
      }
      for (const value of [`${c}Jane Smith`, `${c}`, `Jane${c}=1`]) expect(guardFormula(value), JSON.stringify(value)).toBe(value);
    }
  });
});

describe("issue 19.7: invisible characters in login IDs and names", () => {
  const unit = useUnitDeps();
  const invisible = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2060", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c", "\u00ad", "\ufeff"];

  it("user add refuses zero-width and bidirectional control characters in either field", () => {
    for (const c of invisible) {
      expect(userFieldProblem({ loginId: `ja${c}ne`, fullName: "Jane Smith", partnerNumber: "1" }), `login ID with U+${c.charCodeAt(0).toString(16)}`).not.toBeNull();
      expect(userFieldProblem({ loginId: "jane", fullName: `Jane${c} Smith`, partnerNumber: "1" }), `name with U+${c.charCodeAt(0).toString(16)}`).not.toBeNull();
    }
    expect(userFieldProblem({ loginId: "łukasz.wiśniewski", fullName: "Łukasz Żółć 山田", partnerNumber: "1" })).toBeNull();
  });

  it("the import refuses such rows with the reason, and takes the others: a name at the file's check, a new account's login ID at the store", async () => {
    const hash = bcryptHash("some password here");
    const text = [HEADER, `ad\u202emin,Admin,1,,,${hash}`, `jane,Jane\u200b Smith,1,,,${hash}`, `plain,Plain Person,1,,,${hash}`].join("\n");
    const checked = checkImportFile(text, ENROLMENT);
    // A login ID is checked for invisible characters only where the row would make an account (refusedNewcomers).
    expect(checked.ok && checked.rows.map((r) => r.loginId)).toEqual(["ad\u202emin", "plain"]);
    expect(checked.ok && checked.refused).toEqual([{ line: 3, reason: "the full name must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)" }]);
    const report = await storeImportedUsers(unit.deps, checked.ok ? checked.rows : [], { update: false, actor: { actor: "operator:test", ip: null, userAgent: null } });
    expect(report.refused).toEqual([{ line: 2, reason: "the login ID must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)" }]);
    expect(report.added).toBe(1);
  });
});

describe("issue 19.3: the import's work limits, with the reason per row", () => {
  it("takes bcrypt cost 12 and Django's default PBKDF2, refuses heavier hashes saying why", () => {
    const salt = "c29tZXNhbHRzb21lc2FsdA";
    const rows = [
      `cost12,Cost Twelve,1,,,$2b$12$${"a".repeat(53)}`,
      `cost13,Cost Thirteen,1,,,$2y$13$${"a".repeat(53)}`,
      `django,Django Default,1,,,${djangoPbkdf2("pw", "seasalt", 1000).replace("$1000$", "$1200000$")}`,
      `pbkdf2big,Pbkdf2 Big,1,,,${djangoPbkdf2("pw", "seasalt", 1000).replace("$1000$", "$2000000$")}`,
      `argon64,Argon Big,1,,,${csvField(`$argon2id$v=19$m=65536,t=4,p=1$${salt}$${"A".repeat(43)}`)}`,
      `argon256,Argon Huge,1,,,${csvField(`$argon2id$v=19$m=262144,t=2,p=1$${salt}$${"A".repeat(43)}`)}`,
      `argont5,Argon Slow,1,,,${csvField(`$argon2id$v=19$m=19456,t=5,p=1$${salt}$${"A".repeat(43)}`)}`,
    ];
    const checked = checkImportFile([HEADER, ...rows].join("\n"), ENROLMENT);
    expect(checked.ok && checked.rows.map((r) => r.loginId)).toEqual(["cost12", "django", "argon64"]);
    expect(checked.ok && checked.refused).toEqual([
      { line: 3, reason: "password_hash: bcrypt cost 13 is above FAMOS's limit of 12" },
      { line: 5, reason: "password_hash: PBKDF2 2,000,000 iterations are above FAMOS's limit of 1,500,000" },
      { line: 7, reason: "password_hash: argon2 memory m=262144 KiB is above FAMOS's limit of 65536 KiB (64 MiB)" },
      { line: 8, reason: "password_hash: argon2 t=5 is above FAMOS's limit of 4" },
    ]);
  });
});

describe("issue 19.7: console event details", () => {
  it("mask email addresses as the rest of the console does, and keep everything else", () => {
    const text = detailText(translator("en-GB", "Europe/London"), { from: "jane.smith@dealer.example", to: "j.smith@other.example", previousEmail: "old@dealer.example", role: "admin", purpose: "signin" });
    expect(text).toBe("from: j•••@dealer.example, to: j•••@other.example, previousEmail: o•••@dealer.example, role: admin, purpose: signin");
    expect(text).not.toContain("jane.smith");
  });
});
