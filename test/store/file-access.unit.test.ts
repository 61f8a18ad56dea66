import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sqliteAccessProblem, sqliteFilePath } from "../../src/store/file-access.ts";

/**
 * What sqliteAccessProblem leaves to SQLite's own words, and the URL it reads the path from. What it
 * says about a file or directory the process may not use is tested where it can be, with famos run as
 * another user and on a read-only mount (test/cli/database-faults.test.ts): this process may be root.
 */
describe("sqliteAccessProblem", () => {
  const dir = mkdtempSync(join(tmpdir(), "famos-access-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("has nothing to say of memory, of a file that can be made, or of one it may use", () => {
    expect(sqliteAccessProblem(":memory:")).toBeNull();
    expect(sqliteAccessProblem("")).toBeNull();
    expect(sqliteAccessProblem(join(dir, "new.db"))).toBeNull();
    writeFileSync(join(dir, "kept.db"), "");
    expect(sqliteAccessProblem(join(dir, "kept.db"))).toBeNull();
  });

  it("leaves a directory that does not exist, or a file in its place, to the open's own error", () => {
    expect(sqliteAccessProblem(join(dir, "not", "yet", "famos.db"))).toBeNull();
    writeFileSync(join(dir, "plain-file"), "not a directory\n");
    expect(sqliteAccessProblem(join(dir, "plain-file", "famos.db"))).toBeNull();
  });
});

describe("sqliteFilePath", () => {
  it("is the path of a sqlite: URL, null for another database", () => {
    expect(sqliteFilePath("sqlite:/data/famos.db")).toBe("/data/famos.db");
    expect(sqliteFilePath("sqlite::memory:")).toBe(":memory:");
    expect(sqliteFilePath("postgres://famos@db/famos")).toBeNull();
  });
});
