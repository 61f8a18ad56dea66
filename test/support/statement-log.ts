import SQLite from "better-sqlite3";

/**
 * Issue 17: every statement better-sqlite3 runs in this process while `record` is on (BEGIN and
 * COMMIT included), with its SQL text. It wraps the methods of the statement class itself, so it sees
 * the statements Kysely and the prepared queries run alike; `stop()` puts the methods back.
 */
export function logStatements() {
  const probe = new SQLite(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("select 1")) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  const methods = ["run", "get", "all", "iterate"] as const;
  const originals = methods.map((name) => [name, proto[name]!] as const);
  const sqls: string[] = [];
  let recording = false;
  for (const [name, original] of originals) {
    proto[name] = function (this: { source: string }, ...args: unknown[]) {
      if (recording) sqls.push(this.source);
      return original.apply(this, args);
    };
  }
  return {
    /** Runs `work` with recording on and returns the statements it ran. */
    async record(work: () => Promise<unknown>): Promise<string[]> {
      sqls.length = 0;
      recording = true;
      try {
        await work();
      } finally {
        recording = false;
      }
      return [...sqls];
    },
    stop() {
      for (const [name, original] of originals) proto[name] = original;
    },
  };
}
