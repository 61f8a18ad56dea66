import { describe, expect, it } from "vitest";
import { checkImportFile } from "../../src/cli/import-file.ts";
import { translator } from "../../src/i18n/translator.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { userFieldProblem } from "../../src/users/fields.ts";
import { bcryptHash, HEADER } from "../cli/import-fixtures.ts";
import { useCliApp } from "../cli/run-famos.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const ENROLMENT = { allowedDomains: [] as string[], sharedMailboxPolicy: "off" as const, sharedMailboxNames: [] as string[] };
const MIXED = "the login ID must not mix letters of different scripts (such as Latin and Cyrillic), which can look alike";
const COMPAT = "the login ID must not contain full-width letters, ligatures or other compatibility forms of ordinary characters";
const PASSING = "the login ID must not pass for a Latin one: Cyrillic or Greek letters that all look like Latin ones, small capitals or phonetic letters";
const problem = (loginId: string) => userFieldProblem({ loginId, fullName: "Jane Smith", partnerNumber: "1" });

/**
 * The attack: a second account whose login ID looks exactly like a colleague's ("jаne" with a Cyrillic
 * а beside "jane"; "ﬁona" with the ligature ﬁ beside "fiona"), made by an import from a staff list
 * or by a careless or hostile administrator. Login keys differ (NFC, lower case), so both exist, and
 * support, reading the console or a lock mail, unlocks or resets the wrong person. Every way of making
 * a user (user add, the import, the console's "Create a user") refuses such a login ID, saying why
 * (UTS #39 "highly restrictive": one script, or Latin with Han and Japanese or Korean; NFKC-stable).
 */
describe("look-alike login IDs are refused when an account is made", () => {
  it("refuses a login ID mixing Latin with Cyrillic, Greek or Armenian letters", () => {
    for (const id of ["j\u0430ne", "\u0440aul", "s\u0435\u0440p", "\u03bfliver", "\u0585scar", "JANE.\u0405MITH"]) expect(problem(id), id).toBe(MIXED);
  });

  it("refuses compatibility forms that NFKC folds into ordinary letters: ligatures, full-width, mathematical letters", () => {
    for (const id of ["\ufb01ona", "\uff4a\uff41\uff4e\uff45", "\u{1d423}\u{1d41a}\u{1d427}\u{1d41e}", "jane\u00b2"]) expect(problem(id), id).toBe(COMPAT);
  });

  it("refuses a login ID in one script that passes for a Latin one: Cyrillic or Greek look-alikes only, small capitals, phonetic letters", () => {
    // "jpe", "ACE", "sepp.01", "ox" written in Cyrillic or Greek; "smith", "greg", "alice", "lee" with Latin letters that are not ordinary ones.
    const ids = ["\u0458\u0440\u0435", "\u0410\u0421\u0415", "\u0455\u0435\u0440\u0440.01", "\u03bf\u03c7", "s\u1d0dith", "\u0261reg", "\u0251lice", "\u029fee", "\u01c0ee"];
    for (const id of ids) expect(problem(id), id).toBe(PASSING);
  });

  it("takes login IDs in one script, with digits and punctuation, and Latin with Han, kana or Hangul", () => {
    for (const id of ["jane", "jane.smith-2", "łukasz.wiśniewski", "müller_ß", "иван.петров", "γιάννης", "山田taro", "やまだ.タロウ", "김민준kim", "j\u0301ane", "\u212aelvin", "\u0432\u0435\u0440\u0430", "\u0259liyev", "\u0131\u015f\u0131k", "o\u2019brien", "d\u00f6rte.van-der-berg_2@autohaus.example"]) expect(problem(id), id).toBeNull();
  });

  it("the console says it in each of the six languages", () => {
    for (const locale of LOCALES) {
      const t = translator(locale, "Europe/London");
      for (const message of [MIXED, COMPAT, PASSING]) {
        const said = t.said(message);
        if (locale.startsWith("en")) expect(said).toBe(message);
        else expect(said, `${locale}: ${message}`).not.toBe(message);
      }
    }
  });
});

/**
 * The rule is for accounts being made: one made before it keeps its login ID, and an import row naming
 * it (--update, --sync) is that account's, not a new look-alike. Refused at the file's check, such a row
 * could never update the account, and made every --sync disable nobody ("fix the refused rows") for as
 * long as the account lived.
 */
describe("the import refuses a look-alike login ID only for an account it would make", () => {
  const unit = useUnitDeps();
  const actor = { actor: "operator:test", ip: null, userAgent: null };

  it("refuses new look-alike rows with the reason and takes the others; a row naming an account made before the rule updates it", async () => {
    const before = await addUser(unit.deps, { loginId: "\u0458\u0440\u0435" });
    const hash = bcryptHash("some password here");
    const file = [HEADER, `j\u0430ne,Jane Two,1,,,${hash}`, `\ufb01ona,Fiona Two,1,,,${hash}`, `jane,Jane Smith,1,,,${hash}`, `\u0458\u0440\u0435,Renamed Before,${before.partner_number},,,${hash}`].join("\n");
    const checked = checkImportFile(file, ENROLMENT);
    expect(checked.ok && checked.refused).toEqual([]);
    const report = await storeImportedUsers(unit.deps, checked.ok ? checked.rows : [], { update: true, actor });
    expect(report.refused).toEqual([
      { line: 2, reason: MIXED },
      { line: 3, reason: COMPAT },
    ]);
    expect({ added: report.added, updated: report.updated }).toEqual({ added: 1, updated: 1 });
    expect(await findUserByLogin(unit.db, "j\u0430ne")).toBeUndefined();
    expect((await findUserByLogin(unit.db, "\u0458\u0440\u0435"))?.full_name).toBe("Renamed Before");
  });

  it("--resume, which adds only, refuses them too", async () => {
    const hash = bcryptHash("some password here");
    const checked = checkImportFile([HEADER, `s\u1d0dith,Smith Two,1,,,${hash}`, `smith,John Smith,1,,,${hash}`].join("\n"), ENROLMENT);
    const report = await storeImportedUsers(unit.deps, checked.ok ? checked.rows : [], { update: false, resume: true, actor });
    expect(report.refused).toEqual([{ line: 2, reason: PASSING }]);
    expect(report.added).toBe(1);
  });
});

describe("famos user add refuses a look-alike login ID", { timeout: 120_000 }, () => {
  const f = useCliApp();

  it("exits 1 with the reason, and adds nobody", async () => {
    const run = await f.cli.run(["user", "add", "j\u0430ne", "--name", "Jane Two", "--partner", "01234"], { stdin: "a long passphrase of mine\n" });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`famos: ${MIXED}\n`);
    expect(await findUserByLogin(f.t.deps.db, "j\u0430ne")).toBeUndefined();
  });
});
