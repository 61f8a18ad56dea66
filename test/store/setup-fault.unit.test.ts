import { describe, expect, it } from "vitest";
import { isSetupFault, SqliteOpenFault } from "../../src/store/setup-fault.ts";

const withCode = (code: unknown) => Object.assign(new Error("x"), { code });

describe("a fault of the database's setup, told in a line, against a fault of ours, which keeps its stack", () => {
  it("takes connection, login, missing-database faults, and the database file's own, as setup", () => {
    expect(isSetupFault(new SqliteOpenFault(withCode("EROFS")))).toBe(true);
    for (const code of ["ECONNREFUSED", "ENOTFOUND", "SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_READONLY_DBMOVED", "SQLITE_BUSY", "08006", "28P01", "28000", "3D000", "3F000", "42501", "53300", "57P03"]) {
      expect(isSetupFault(withCode(code)), code).toBe(true);
    }
  });

  it("leaves constraint, syntax and programming errors, and anything without a code, to the stack trace", () => {
    // A file fault elsewhere (the development secret's ./data on a read-only install) is not the database's.
    for (const code of ["EROFS", "EACCES", "EEXIST", "ENOENT", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_ERROR", "23505", "42P01", "42601", "40001", "ERR_INVALID_ARG_TYPE", 28000, undefined]) {
      expect(isSetupFault(withCode(code)), String(code)).toBe(false);
    }
    expect(isSetupFault(new TypeError("undefined is not a function"))).toBe(false);
    expect(isSetupFault({ code: "ECONNREFUSED", message: "not an Error" })).toBe(false);
  });
});
