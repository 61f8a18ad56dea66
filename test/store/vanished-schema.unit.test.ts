import { describe, expect, it } from "vitest";
import { vanishedSchema } from "../../src/store/migrate.ts";

/**
 * Which PostgreSQL errors of a migration run are the passing race of Kysely's introspection (it lists
 * every schema's tables and columns, and other FAMOS instances or tests change theirs meanwhile), tried
 * again, and which are the migration's own, told at once. Shaped as pg's errors are (code, message, routine).
 */
const pgError = (code: string, message: string, routine: string) => Object.assign(new Error(message), { code, routine });

describe("a vanished schema, table or column of another schema (store/migrate.ts)", () => {
  it("is another schema's: a schema gone, a schema-qualified table gone, a column gone under the introspection's pg_get_serial_sequence", () => {
    expect(vanishedSchema(pgError("3F000", 'schema "t_1" does not exist', "LookupExplicitNamespace"))).toBe(true);
    expect(vanishedSchema(pgError("42P01", 'relation "t_1.famos_migration" does not exist', "RangeVarGetRelidExtended"))).toBe(true);
    // Seen in a whole-suite run: another worker's migration changed codes while this one introspected.
    expect(vanishedSchema(pgError("42703", 'column "code_hash" of relation "codes" does not exist', "pg_get_serial_sequence"))).toBe(true);
  });

  it("is the migration's own: a table named without a schema, a column missing in its own statement, any other fault", () => {
    expect(vanishedSchema(pgError("42P01", 'relation "codes" does not exist', "parserOpenTable"))).toBe(false);
    expect(vanishedSchema(pgError("42703", 'column "code_hash" does not exist', "errorMissingColumn"))).toBe(false);
    expect(vanishedSchema(pgError("42703", 'column "code_hash" of relation "codes" does not exist', "ATExecDropColumn"))).toBe(false);
    expect(vanishedSchema(pgError("53100", "could not extend file: No space left on device", "mdextend"))).toBe(false);
    expect(vanishedSchema(undefined)).toBe(false);
  });
});
