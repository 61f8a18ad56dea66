import { describe, expect, it } from "vitest";
import { checkImportFile } from "../../src/cli/import-file.ts";
import { translator } from "../../src/i18n/translator.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { userFieldProblem } from "../../src/users/fields.ts";
import { bcryptHash, HEADER } from "../cli/import-fixtures.ts";
import { useCliApp } from "../cli/run-famos.ts";

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

  it("the import refuses such a row with the reason and takes the others", () => {
    const hash = bcryptHash("some password here");
    const checked = checkImportFile([HEADER, `j\u0430ne,Jane Two,1,,,${hash}`, `\ufb01ona,Fiona Two,1,,,${hash}`, `jane,Jane Smith,1,,,${hash}`].join("\n"), ENROLMENT);
    expect(checked.ok && checked.rows.map((r) => r.loginId)).toEqual(["jane"]);
    expect(checked.ok && checked.refused).toEqual([
      { line: 2, reason: MIXED },
      { line: 3, reason: COMPAT },
    ]);
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

describe("famos user add refuses a look-alike login ID", { timeout: 120_000 }, () => {
  const f = useCliApp();

  it("exits 1 with the reason, and adds nobody", async () => {
    const run = await f.cli.run(["user", "add", "j\u0430ne", "--name", "Jane Two", "--partner", "01234"], { stdin: "a long passphrase of mine\n" });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`famos: ${MIXED}\n`);
    expect(await findUserByLogin(f.t.deps.db, "j\u0430ne")).toBeUndefined();
  });
});
