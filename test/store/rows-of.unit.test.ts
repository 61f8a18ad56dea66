import SQLite from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/store/prepared.ts";

/**
 * Issue 17, the forty-first round: prepared queries build their rows from raw arrays with a literal
 * per statement. What a caller gets must be exactly what better-sqlite3's own rows are: the same keys
 * in the same order, the same values, a plain object; and the statement, shared by its text with
 * Kysely's way to it, goes on giving objects.
 */
describe("rowsOf", () => {
  const db = new SQLite(":memory:");
  afterAll(() => db.close());
  db.exec(`create table t (id text primary key, n integer, r real, b blob, "odd ""name""" text, "1" text, gone text);
    insert into t values ('a', 9007199254740991, 1.5, x'00ff', 'q', 'one', null), ('b', -1, 0, x'', 'é – 日本', '', 'x');`);
  const same = (sql: string, ...parameters: unknown[]) => {
    const statement = db.prepare(sql);
    const own = statement.all(parameters);
    const built = rowsOf(statement, parameters);
    expect(built).toStrictEqual(own);
    built.forEach((row, i) => {
      expect(Object.keys(row as object)).toEqual(Object.keys(own[i] as object));
      expect(Object.getPrototypeOf(row)).toBe(Object.getPrototypeOf(own[i]));
    });
    // The statement is left as it was: objects again for whoever runs it next.
    expect(statement.all(parameters)).toStrictEqual(own);
    return built;
  };

  it("gives better-sqlite3's rows: keys in order, integers, reals, blobs, nulls, quoted and numeric names", () => {
    const rows = same(`select * from t order by id`);
    expect(rows).toHaveLength(2);
    expect((rows[0] as Record<string, unknown>)['odd "name"']).toBe("q");
  });

  it("a name given twice holds the later column's value, as better-sqlite3's own row does", () => {
    expect(same(`select id, n as id, r from t where id = ?`, "b")).toEqual([{ id: -1, r: 0 }]);
  });

  it("no rows, one row, bound values", () => {
    expect(same(`select id from t where id = ?`, "none")).toEqual([]);
    expect(same(`select n, gone from t where id = ?`, "a")).toEqual([{ n: 9007199254740991, gone: null }]);
  });

  it("a column named __proto__: the statement's own rows, whatever it holds", () => {
    const statement = db.prepare(`select b as "__proto__", id from t order by id`);
    const [own, built] = [statement.all(), rowsOf(statement, [])];
    expect(built.map((row) => [Object.getPrototypeOf(row), Object.keys(row as object)])).toEqual(own.map((row) => [Object.getPrototypeOf(row), Object.keys(row as object)]));
  });

  it("a statement that failed is left giving objects", () => {
    db.function("fails", () => {
      throw new Error("no");
    });
    const statement = db.prepare(`select fails() as x, id from t`);
    expect(() => rowsOf(statement, [])).toThrow("no");
    const ok = db.prepare(`select id from t order by id`);
    expect(rowsOf(ok, [])).toEqual([{ id: "a" }, { id: "b" }]);
    expect(statement.raw(false)).toBe(statement);
    expect(() => statement.all()).toThrow("no");
  });
});
