import type SQLite from "better-sqlite3";
import { SqliteAdapter, type Compilable, type CompiledQuery, type Kysely } from "kysely";
import { Kept } from "../platform/kept.ts";
import type { Database } from "./schema.ts";

/** Stands for the i-th argument while the query is built once. */
class Slot {
  constructor(readonly index: number) {}
}

interface Template {
  compiled: CompiledQuery;
  /** For each parameter of the compiled query: the argument it takes, or -1 for a constant. */
  from: number[];
}

/** SQLite connections that prepared queries run on directly, by their Kysely adapter (see below). */
const direct = new WeakMap<object, SQLite.Database>();

/**
 * Lets prepared queries on `db` (and its transactions, which share its adapter) run on `database`
 * directly: better-sqlite3 runs a statement synchronously, and Kysely's way to it (executor,
 * connection provider, connection mutex: five promise hops and their allocations) cost each of a
 * sign-in's statements more of the event loop than its own lookup (issue 17).
 */
export function runPreparedDirectly(db: Kysely<Database>, database: SQLite.Database): void {
  direct.set(db.getExecutor().adapter, database);
}

/**
 * A query of one fixed shape, built and compiled by Kysely once per dialect and then run with each
 * call's values bound to its parameters (issue 17: building and compiling a query cost more of a
 * sign-in's CPU than SQLite running it; SQLite's prepared statement is kept by its text, see
 * database.ts). `build` must use its arguments only as values (`where(col, "=", arg)`, `values({…})`),
 * never to decide the query's shape: each argument must reach the compiled query exactly as given,
 * which is checked when it is first compiled.
 */
export function preparedQuery<A extends unknown[], R>(build: (db: Kysely<Database>, ...args: A) => Compilable<R>): (db: Kysely<Database>, ...args: A) => Promise<R[]> {
  // Per dialect: a transaction shares its database's adapter, so both find the same entry.
  const templates = new WeakMap<object, Template>();
  return async (db, ...args) => {
    const adapter = db.getExecutor().adapter;
    let template = templates.get(adapter);
    if (!template) {
      const slots = args.map((_, i) => new Slot(i)) as unknown as A;
      const built = build(db, ...slots).compile();
      const compiled = adapter instanceof SqliteAdapter ? inlineIntegerConstants(built) : built;
      const from = compiled.parameters.map((p) => (p instanceof Slot ? p.index : -1));
      if (new Set(from.filter((i) => i >= 0)).size !== args.length) throw new Error(`preparedQuery: an argument does not reach the query as a value: ${compiled.sql}`);
      template = { compiled, from };
      templates.set(adapter, template);
    }
    const { compiled, from } = template;
    const parameters = from.map((i, at) => (i >= 0 ? args[i] : compiled.parameters[at]));
    // Directly only where Kysely would not make the query wait: in the caller's own transaction, or
    // when no transaction is open on the connection. Another caller's open transaction holds Kysely's
    // connection mutex, and a statement run past it would join that transaction (and its rollback).
    const database = direct.get(adapter);
    if (database && (db.isTransaction || !database.inTransaction)) {
      const statement = database.prepare(compiled.sql);
      if (statement.reader) return rowsOf(statement, parameters) as R[];
      statement.run(parameters);
      return [];
    }
    return (await db.executeQuery<R>({ ...compiled, parameters })).rows;
  };
}

/**
 * A statement's rows as better-sqlite3 gives them, built from its raw rows (arrays) by an object
 * literal made once per statement (issue 17, the forty-first round). better-sqlite3 makes each row with
 * V8's API, one property set at a time: every column's name looked up again, the object taken through a
 * map transition per column in V8's runtime, ~0.6 M instructions per sign-in (callgrind), and the rows
 * of one table came out in shapes a later read had to tell apart. The literal gives every row of a
 * statement one shape, made in a few instructions. The same keys, in the same order, with the same
 * values (a later column of the same name wins, as there). `null`: a statement kept as it was.
 */
const rowBuilders = new WeakMap<SQLite.Statement, ((values: unknown[]) => unknown) | null>();

export function rowsOf(statement: SQLite.Statement, parameters: unknown[]): unknown[] {
  let build = rowBuilders.get(statement);
  if (build === undefined) {
    build = rowBuilder(statement.columns().map((column) => column.name));
    rowBuilders.set(statement, build);
  }
  if (build === null) return statement.all(parameters);
  // Raw for this call only: the statement is shared by its text with Kysely's own way to it (database.ts).
  let values: unknown[][];
  statement.raw(true);
  try {
    values = statement.all(parameters) as unknown[][];
  } finally {
    statement.raw(false);
  }
  const rows = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) rows[i] = build(values[i]!);
  return rows;
}

/**
 * `(v) => ({ "name": v[0], … })` for these column names; null (better-sqlite3's own rows) for a statement
 * without columns or with one named "__proto__", which a literal would take as the prototype.
 */
function rowBuilder(names: readonly string[]): ((values: unknown[]) => unknown) | null {
  if (names.length === 0 || names.includes("__proto__")) return null;
  // Each name as a JSON string literal: text of SQLite's own column names, never a value.
  return new Function("v", `return { ${names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(", ")} };`) as (values: unknown[]) => unknown;
}

/**
 * SQLite: the query's integer constants (`.limit(5)`, `hard_locked = 0`) written into its text instead of
 * bound. SQLite's planner may use a bound LIMIT's value, so binding one (better-sqlite3 binds anew at
 * every run) marks the statement for preparing again: an indexed read with `limit ?` cost three times
 * the same read with `limit 5` (issue 17). The arguments stay bound; a constant is never user input.
 */
function inlineIntegerConstants(compiled: CompiledQuery): CompiledQuery {
  const { sql: text, parameters } = compiled;
  const kept: unknown[] = [];
  let out = "";
  let index = 0;
  let quote: string | null = null;
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"' || char === "`") {
      quote = char;
    } else if (char === "?") {
      const value = parameters[index++];
      if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
        out += String(value);
        continue;
      }
      kept.push(value);
    }
    out += char;
  }
  // A placeholder count that does not match (a "?" the scan misread) keeps the query as Kysely built it.
  if (index !== parameters.length) return compiled;
  return { ...compiled, sql: out, parameters: kept };
}

/**
 * An insert of one whole row into `table` (every column named in `columns`, in any order), prepared
 * as above. A row with a key outside `columns` is misuse and throws rather than lose the value.
 */
export function preparedInsert<T extends keyof Database & string>(table: T, columns: readonly (keyof Database[T] & string)[]): (db: Kysely<Database>, row: Database[T]) => Promise<void> {
  const insert = preparedQuery((db, ...values: unknown[]) =>
    db.insertInto(table).values(Object.fromEntries(columns.map((column, i) => [column, values[i]])) as never),
  );
  return async (db, row) => {
    const given = row as unknown as Record<string, unknown>;
    if (Object.keys(given).length !== columns.length) throw new Error(`preparedInsert(${table}): the row's columns are not ${columns.join(", ")}`);
    await insert(db, ...columns.map((column) => given[column]));
  };
}

/**
 * preparedQuery for a query whose shape depends on a setting or a flag (a lock policy, an optional
 * column, the length of an IN list): one prepared query per distinct `shape`, told apart by its JSON.
 * `build` may use `shape` to decide the query's shape, and its other arguments only as values.
 */
export function preparedQueryFor<S, A extends unknown[], R>(
  build: (shape: S, db: Kysely<Database>, ...args: A) => Compilable<R>,
): (shape: S, db: Kysely<Database>, ...args: A) => Promise<R[]> {
  // Shapes come from settings and flags, a handful at most; the bound keeps a misuse from growing it.
  const byShape = new Kept<string, (db: Kysely<Database>, ...args: A) => Promise<R[]>>(100);
  return (shape, db, ...args) =>
    byShape.get(JSON.stringify(shape), () => preparedQuery((db2: Kysely<Database>, ...values: A) => build(shape, db2, ...values)))(db, ...args);
}
