import { describe, expect, it } from "vitest";
import { parseCsv } from "../../src/cli/csv.ts";

describe("RFC 4180 reading of the import file", () => {
  it("reads plain records with their line numbers", () => {
    expect(parseCsv("a,b,c\n1,2,3\n")).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", "2", "3"] },
    ]);
  });

  it("accepts CRLF, LF and a last record without a line break", () => {
    expect(parseCsv("a,b\r\n1,2\n3,4")).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["1", "2"] },
      { line: 3, fields: ["3", "4"] },
    ]);
  });

  it("keeps commas, doubled quotes and line breaks inside quoted fields (§2.5–2.7)", () => {
    const records = parseCsv('name,note\r\n"Smith, Jane","say ""hi"""\r\n"two\r\nlines","x"\r\nafter,1\r\n');
    expect(records).toEqual([
      { line: 1, fields: ["name", "note"] },
      { line: 2, fields: ["Smith, Jane", 'say "hi"'] },
      { line: 3, fields: ["two\r\nlines", "x"] },
      // The quoted line break counts: the next record starts on the line an editor shows.
      { line: 5, fields: ["after", "1"] },
    ]);
  });

  it("tolerates a UTF-8 byte order mark before the header", () => {
    expect(parseCsv("\uFEFFlogin_id,role\nalice,user\n")[0]).toEqual({ line: 1, fields: ["login_id", "role"] });
  });

  it("reads empty fields, a trailing comma and an empty quoted field", () => {
    expect(parseCsv('a,,""\n,\n')).toEqual([
      { line: 1, fields: ["a", "", ""] },
      { line: 2, fields: ["", ""] },
    ]);
  });

  it("skips blank lines but keeps counting them", () => {
    expect(parseCsv("a\n\n  \nb\n\n")).toEqual([
      { line: 1, fields: ["a"] },
      { line: 4, fields: ["b"] },
    ]);
  });

  it("keeps spaces around unquoted values (trimming is the importer's choice)", () => {
    expect(parseCsv(" a , b ")).toEqual([{ line: 1, fields: [" a ", " b "] }]);
  });

  it("refuses a quote inside an unquoted field and reads on at the next line", () => {
    const records = parseCsv('a,b\nx"y,1\nok,2\n');
    expect(records[1]).toEqual({ line: 2, error: expect.stringContaining("quote") });
    expect(records[2]).toEqual({ line: 3, fields: ["ok", "2"] });
  });

  it("refuses text after a closing quote and reads on at the next line", () => {
    const records = parseCsv('"a"b,c\nok,2');
    expect(records[0]).toEqual({ line: 1, error: expect.stringContaining("after a closing quote") });
    expect(records[1]).toEqual({ line: 2, fields: ["ok", "2"] });
  });

  it("names the lines swallowed by a quote that is never closed", () => {
    const records = parseCsv('a,b\n1,"open\n2,3\n4,5\n');
    expect(records).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, error: "a quoted field opened on line 2 is never closed, so lines 2 to 5 were not read" },
    ]);
  });

  it("reads a lone CR as a line break (old spreadsheet exports)", () => {
    expect(parseCsv("a\rb\r")).toEqual([
      { line: 1, fields: ["a"] },
      { line: 2, fields: ["b"] },
    ]);
  });

  it("returns nothing for an empty file", () => {
    expect(parseCsv("")).toEqual([]);
    expect(parseCsv("\uFEFF")).toEqual([]);
  });

  // Its speed is checked by `npm run check:speed`.
  it("reads 10,000 records, line numbers and quoted commas intact", () => {
    const text = ["a,b,c", ...Array.from({ length: 10_000 }, (_, i) => `user${i},"Name, ${i}",${i}`)].join("\r\n");
    const records = parseCsv(text);
    expect(records).toHaveLength(10_001);
    expect(records[10_000]).toEqual({ line: 10_001, fields: ["user9999", "Name, 9999", "9999"] });
  });
});
