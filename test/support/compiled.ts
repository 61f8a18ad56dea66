import { DefaultQueryCompiler } from "kysely";

/**
 * Issue 17: the SQL texts Kysely built and compiled while `run` ran (a query compiled once, through
 * preparedQuery or preparedQueryFor, is not compiled again). BEGIN and COMMIT are raw text and are not
 * compiled. The compiler is put back after, whatever `run` did.
 */
export async function compiledDuring(run: () => Promise<unknown>): Promise<string[]> {
  const compile = DefaultQueryCompiler.prototype.compileQuery;
  const compiled: string[] = [];
  DefaultQueryCompiler.prototype.compileQuery = function (this: DefaultQueryCompiler, ...args: Parameters<typeof compile>) {
    const query = compile.apply(this, args);
    compiled.push(query.sql);
    return query;
  };
  try {
    await run();
  } finally {
    DefaultQueryCompiler.prototype.compileQuery = compile;
  }
  return compiled;
}
