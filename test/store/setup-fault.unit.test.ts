import { describe, expect, it } from "vitest";
import { isConnectionLost, isSetupFault, SqliteOpenFault } from "../../src/store/setup-fault.ts";

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

describe("a connection the database dropped in the middle of a command", () => {
  it("is a restart or crash of the server, or node-postgres's own word for a socket that closed", () => {
    expect(isConnectionLost(withCode("57P01"))).toBe(true);
    expect(isConnectionLost(withCode("57P02"))).toBe(true);
    for (const message of ["Connection terminated unexpectedly", "Connection terminated", "Client has encountered a connection error and is not queryable"]) {
      expect(isConnectionLost(new Error(message)), message).toBe(true);
    }
  });

  it("is not an error of ours that happens to say so, nor a statement's error", () => {
    expect(isConnectionLost(Object.assign(new Error("Connection terminated unexpectedly"), { code: "23505" }))).toBe(false);
    expect(isConnectionLost(new Error("Connection terminated unexpectedly by the user"))).toBe(false);
    expect(isConnectionLost(withCode("42P01"))).toBe(false);
    expect(isConnectionLost({ message: "Connection terminated unexpectedly" })).toBe(false);
  });
});
