import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { checkImportFile, IMPORT_COLUMNS } from "../../src/cli/import-file.ts";
import { TEST_SECRET } from "../support/app.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * SPEC "Command line" and "Bad input" for the operator: `famos` commands given malformed arguments
 * and files (CSV in other encodings, with a BOM, CRLF, huge lines, formulas, NUL; dates and ids that
 * are no dates or ids) print a clear line and exit non-zero, never a stack trace, and write nothing.
 * Seeded (FAMOS_FUZZ_SEED); FAMOS_FUZZ_CASES raises the number of cases.
 */
const SEED = Number(process.env.FAMOS_FUZZ_SEED ?? 20261205);
const CASES = Number(process.env.FAMOS_FUZZ_CASES ?? 0);

/** Pieces a broken import file is made of: fields a spreadsheet, a careless export or an attacker writes. */
const FIELD = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", " ", '"', '""', '"a"b', "a\"b", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\u0000", "\uFEFF", "\r", "\n", "\r\n", "ä", "x".repeat(70_000), "user", "admin", "root", "a@b.example", "$2b$04$short", "pbkdf2_sha256$0$$", "$argon2id$v=19$m=1,t=1,p=1$$"),
);
const LINE_END = fc.constantFrom("\n", "\r\n", "\r", "\n\n", "");
const HEADER = fc.oneof(
  fc.constant(IMPORT_COLUMNS.join(",")),
  fc.constant(`\uFEFF${IMPORT_COLUMNS.join(",")}`),
  fc.constant(IMPORT_COLUMNS.map((c) => c.toUpperCase()).join(" , ")),
  fc.constant([...IMPORT_COLUMNS, "login_id"].join(",")),
  fc.constant(IMPORT_COLUMNS.slice(1).join(",")),
  fc.array(FIELD, { maxLength: 8 }).map((f) => f.join(",")),
);
const ROW = fc.array(FIELD, { minLength: 0, maxLength: 8 }).map((fields) => fields.join(","));
const FILE_TEXT = fc.tuple(HEADER, fc.array(fc.tuple(ROW, LINE_END), { maxLength: 8 }), LINE_END).map(([header, rows, end]) => `${header}${end || "\n"}${rows.map(([r, e]) => r + e).join("")}`);

describe("the import file's reader under any text (fast-check, in process)", () => {
  it("SPEC Command line: checkImportFile never throws; it refuses the file with a reason or accounts for every row by its line", () => {
    const enrolment = (() => {
      const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET });
      if (!loaded.ok) throw new Error(loaded.errors.join("; "));
      return loaded.config.enrolment;
    })();
    let checked = 0;
    fc.assert(
      fc.property(FILE_TEXT, (text) => {
        const result = checkImportFile(text, enrolment);
        checked += 1;
        if (!result.ok) return result.message.length > 0;
        const lines = [...result.rows.map((r) => r.line), ...result.refused.map((r) => r.line)];
        return new Set(lines).size === lines.length && result.refused.every((r) => r.reason.length > 0 && r.line >= 2) && result.rows.every((r) => r.line >= 2);
      }),
      { seed: SEED, numRuns: 300 + CASES * 10 },
    );
    expect(checked).toBeGreaterThanOrEqual(300);
  });
});

/** Arguments an operator mistypes, or a script passes unchecked: no date, no id, no number (no NUL: argv cannot carry one). */
const BAD_ARGUMENTS: string[][] = [
  ["audit", "--since", "2026-13-45"],
  ["audit", "--since", "+275760-09-13T00:00:00Z"],
  ["audit", "--since", "9".repeat(400)],
  ["audit", "--event", "\u0001"],
  ["rollout", "plan", "--partner", "7101", "--from", "31/02/2026 25:00"],
  ["rollout", "plan", "--partner", "7101", "--from", "+275760-09-13T00:00"],
  ["rollout", "plan", "--partner", "", "--from", "2027-01-11T07:00"],
  ["rollout", "plan", "--partner", "\u007f", "--from", "2027-01-11T07:00"],
  ["user", "show", ""],
  ["user", "show", "\u001b[2J"],
  ["user", "role", "j.smith", "superuser"],
  ["user", "unlock", "99999999999999999999999"],
  ["user", "delete", "j.smith"],
  ["user", "set-password", "j.smith"],
  ["user", "reset-email", "j.smith", "--name", "Jane Smith", "--partner", "-1", "--ticket", "T-1"],
  ["user", "reset-email", "j.smith", "--name", "Jane Smith", "--partner", "01234", "--ticket", "x".repeat(65)],
  ["user", "reset-email", "j.smith", "--name", "", "--partner", "01234", "--ticket", "T-1"],
  ["address", "show", "999.1.1.1"],
  ["address", "unlock", "::::"],
  ["user", "import", "--sync", "--update", "nowhere.csv"],
];

/** Files no import can take: every data row broken, or the file itself unreadable. */
function badFile(seed: number, index: number): Buffer {
  const [text] = fc.sample(FILE_TEXT, { seed: seed + index, numRuns: 1 });
  const kinds: Array<() => Buffer> = [
    () => Buffer.from(text!, "utf8"),
    () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${IMPORT_COLUMNS.join(",")}\r\nj.x,J X,1,,,\r\n`, "utf16le")]),
    () => Buffer.from(`${IMPORT_COLUMNS.join(",")}\nm.muller,M\xfcller,1,user,m@b.example,$2b$04$xx\n`, "latin1"),
    () => Buffer.from(`\uFEFF${IMPORT_COLUMNS.join(",")}\r\n=cmd|' /C calc'!A0,+SUM(1),@x,-1,=1+1,=HYPERLINK("x")\r\n`, "utf8"),
    () => Buffer.from(`${IMPORT_COLUMNS.join(",")}\n${"a".repeat(5 * 1024 * 1024)},x,1,,,\n`, "utf8"),
    () => Buffer.from(`${IMPORT_COLUMNS.join(",")}\nn.ul\u0000l,N,1,,,\n`, "utf8"),
    () => Buffer.from([0x00, 0x01, 0x02, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]),
    () => Buffer.alloc(0),
  ];
  return kinds[index % kinds.length]!();
}

/**
 * Runs as a real `famos` process: the first and the last of the arguments (a refusal, a usage error),
 * the one that reads a password from standard input, and the first file; those show the exit code as the
 * shell sees it. Every other run is the same command through main() in this process (cli.inProcess),
 * its exit code, standard error and the database checked the same way.
 */
function realProcess(args: string[], index: number): boolean {
  return index === 0 || index === BAD_ARGUMENTS.length - 1 || index === BAD_ARGUMENTS.length || args[1] === "set-password";
}

describe("famos commands under malformed arguments and files (real commands, SQLite)", { timeout: 240_000 }, () => {
  let cli: CliWorkspace;
  const digest = () => {
    const db = new Database(cli.databaseUrl.slice("sqlite:".length), { readonly: true });
    try {
      const tables = (db.prepare("select name from sqlite_master where type = 'table' and name not like 'famos_migration%' and name <> 'job_leases' order by name").all() as Array<{ name: string }>).map((t) => t.name);
      return Object.fromEntries(tables.map((t) => [t, createHash("sha256").update(JSON.stringify(db.prepare(`select * from "${t}"`).all())).digest("hex").slice(0, 16)]));
    } finally {
      db.close();
    }
  };
  beforeAll(async () => {
    cli = cliWorkspace();
    expect((await cli.run(["user", "add", "j.smith", "--name", "Jane Smith", "--partner", "01234"], { stdin: "a long passphrase of mine\n" })).code).toBe(0);
  });
  afterAll(() => cli?.remove());

  it("SPEC Command line: each refuses with one clear line on standard error, exit 1 or 2, no stack trace, nothing stored", async () => {
    const files = Array.from({ length: 8 + CASES }, (_, i) => {
      const path = join(cli.dir, `bad-${i}.csv`);
      writeFileSync(path, badFile(SEED, i));
      return ["user", "import", path];
    });
    const runs = [...BAD_ARGUMENTS, ...files];
    const before = digest();
    const failures: string[] = [];
    // Four at a time, reading the one database (the in-process runs take turns among themselves).
    for (let i = 0; i < runs.length; i += 4) {
      const batch = runs.slice(i, i + 4);
      const results = await Promise.all(batch.map((args, j) => (realProcess(args, i + j) ? cli.run(args, { stdin: "" }) : cli.inProcess(args))));
      for (const [j, result] of results.entries()) {
        const what = `famos ${batch[j]!.join(" ").slice(0, 100)} → ${result.code}`;
        if (result.code !== 1 && result.code !== 2) failures.push(`${what}: exit code`);
        if (/\n\s+at .+:\d+:\d+/.test(result.stderr)) failures.push(`${what}: a stack trace: ${result.stderr.slice(0, 400)}`);
        // A refusal's line, commander's usage error, or the import's report of its refused rows by line.
        if (!/^famos: |error: |Usage: famos|^\d+ rows? refused:\n {2}line \d+: ./m.test(result.stderr)) failures.push(`${what}: no reason on standard error: ${JSON.stringify(result.stderr.slice(0, 200))}`);
        if (result.stderr.length > 20_000) failures.push(`${what}: ${result.stderr.length} characters on standard error`);
      }
    }
    expect(failures).toEqual([]);
    expect(digest()).toEqual(before);
  });
});
