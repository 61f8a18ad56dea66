import { describe, expect, it } from "vitest";
import { databaseUrlProblem } from "../../src/store/database-url.ts";

/** FAMOS_DATABASE_URL's one rule (config.ts at start, openStore for a URL from elsewhere). */
describe("databaseUrlProblem", () => {
  it("takes sqlite:<path> and postgres:// or postgresql:// URLs, with a lower-case ?schema= of up to 63 characters", () => {
    for (const url of ["sqlite:./data/famos.db", "sqlite::memory:", "postgres://u@db:5432/famos", "postgresql://u:p%40ss@db/famos?schema=famos_2fa", `postgres://db/x?schema=_${"a".repeat(62)}`]) {
      expect(databaseUrlProblem(url), url).toBeNull();
    }
  });

  it("refuses another scheme, an empty path, and sqlite: or postgres:// not at the start", () => {
    for (const url of ["sqlite:", "mysql://u:secret@db/x", "postgres://", " sqlite:./x.db", "x-sqlite:./x.db", "file:sqlite:./x.db"]) {
      expect(databaseUrlProblem(url), url).toBe("must be sqlite:<path> or postgres://…");
    }
  });

  it("refuses a postgres:// value that is no URL, without quoting it (it may hold a password)", () => {
    for (const url of ["postgres://u:secret@db:99999/x", "postgres://secret@[bad/x"]) {
      const problem = databaseUrlProblem(url);
      expect(problem, url).toMatch(/^is not a valid postgres:\/\/ address/);
      expect(problem).not.toContain("secret");
    }
  });

  it("refuses a ?schema= that is not a lower-case identifier of 1 to 63 characters", () => {
    for (const schema of ["", "1famos", "Famos", "famos-2fa", "famos 2fa", "a".repeat(64), "famos;drop", "x\u00e9"]) {
      expect(databaseUrlProblem(`postgres://db/x?schema=${encodeURIComponent(schema)}`), JSON.stringify(schema)).toMatch(/^has \?schema=.*a schema is a lower-case identifier/);
    }
  });
});
