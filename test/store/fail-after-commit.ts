import { createRequire } from "node:module";
import SQLite from "better-sqlite3";
import type * as pgTypes from "pg";

/** "after-commit", "before-commit", or the first statement whose text matches. */
type Moment = "after-commit" | "before-commit" | RegExp;

/**
 * The database fails at a chosen statement of the next request, in this process, on both dialects:
 * "after-commit" fails the first statement after the next COMMIT (the request's action has committed;
 * the database then went away, or another writer took SQLite's lock); "before-commit" fails the next
 * COMMIT itself (nothing of the transaction is kept); a RegExp fails the first statement it matches
 * (an audit line written on its own, after a write that committed by itself). The failure is the driver's own "unavailable"
 * error (SQLITE_BUSY; PostgreSQL's 57014, a statement cut off by statement_timeout), so FAMOS meets it
 * as it would meet the real thing. Patched on better-sqlite3's statements and node-postgres's client
 * (the server's connection runs prepared statements on better-sqlite3 directly, past Kysely's plugins),
 * armed by `arm` and undone by `restore`; `failed` is the statement that was failed, for the test to name.
 */
export function failingStatements() {
  let armed: Moment | null = null;
  let committed = false;
  let failed: string | null = null;

  /** Whether the statement `text` is to fail now; notes a commit passed once armed "after-commit". */
  const failsNow = (text: string): boolean => {
    if (armed === null) return false;
    const commit = /^\s*commit\b/i.test(text);
    if (armed instanceof RegExp ? armed.test(text) : armed === "after-commit" ? committed : commit) {
      armed = null;
      failed = text;
      return true;
    }
    return false;
  };
  const passed = (text: string) => {
    if (armed === "after-commit" && /^\s*commit\b/i.test(text)) committed = true;
  };

  // better-sqlite3: every statement, the server's cached prepared ones included, runs through these.
  const probe = new SQLite(":memory:");
  const statement = Object.getPrototypeOf(probe.prepare("select 1")) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  const sqliteOriginals = new Map<string, (...args: unknown[]) => unknown>();
  for (const name of ["run", "all", "get", "iterate"]) {
    const original = statement[name]!;
    sqliteOriginals.set(name, original);
    statement[name] = function (this: { source: string }, ...args: unknown[]) {
      if (failsNow(this.source)) throw new SQLite.SqliteError("database is locked", "SQLITE_BUSY");
      const result = original.apply(this, args);
      passed(this.source);
      return result;
    };
  }

  // node-postgres, as store/database.ts loads it.
  const pg = createRequire(import.meta.url)("pg") as typeof pgTypes;
  const client = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const pgQuery = client.query;
  client.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === "string" ? first : typeof (first as { text?: unknown })?.text === "string" ? (first as { text: string }).text : "";
    const promised = typeof args[args.length - 1] !== "function";
    if (promised && failsNow(text)) return Promise.reject(Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" }));
    const result = pgQuery.apply(this, args);
    // Noted before the caller's own continuation runs: its handler is attached after this one.
    if (promised) void (result as Promise<unknown>).then(() => passed(text), () => undefined);
    return result;
  };

  return {
    /** The next request's statement at `moment` fails (once). */
    arm(moment: Moment): void {
      armed = moment;
      committed = false;
      failed = null;
    },
    /** The statement that was failed, or null when none was (the request had none at that moment). */
    failed: () => failed,
    disarm(): void {
      armed = null;
    },
    restore(): void {
      for (const [name, original] of sqliteOriginals) statement[name] = original;
      client.query = pgQuery;
    },
  };
}

export type FailingStatements = ReturnType<typeof failingStatements>;
