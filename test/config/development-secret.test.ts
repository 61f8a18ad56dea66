import { chmodSync, chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliWorkspace } from "../cli/run-famos.ts";

/**
 * Without FAMOS_SECRET, a development start keeps a generated secret in ./data/secret under the folder
 * it runs from. An install whose program folder is read-only (or a checkout owned by another user),
 * with FAMOS_DATABASE_URL pointing at a writable place, must be told in one line what famos could not
 * write and what to set instead, not given a stack trace from writeFileSync.
 */
describe("a development start whose ./data it may not write (real famos from dist)", () => {
  const root = process.getuid?.() === 0;
  const nobody = root ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
  let cli: CliWorkspace;
  let env: Record<string, string>;
  beforeAll(async () => {
    cli = cliWorkspace();
    const database = join(cli.dir, "db");
    mkdirSync(database);
    mkdirSync(join(cli.dir, "data"), { mode: 0o755 });
    env = { FAMOS_DATABASE_URL: `sqlite:${join(database, "famos.db")}`, FAMOS_PORT: "0" };
    expect((await cli.run(["migrate"], { env })).code).toBe(0);
    if (root) {
      chmodSync(cli.dir, 0o755);
      for (const file of ["", "famos.db", "famos.db-wal", "famos.db-shm"]) {
        try {
          chownSync(join(database, file), 65534, 65534);
        } catch {
          // -wal and -shm are not always left behind.
        }
      }
    } else chmodSync(join(cli.dir, "data"), 0o555);
  });
  afterAll(() => {
    chmodSync(join(cli.dir, "data"), 0o700);
    chmodSync(cli.dir, 0o700);
    cli.remove();
  });

  it.each([["serve"], ["user", "show", "staff1"]])("famos %s … says in one line that it cannot keep the secret in ./data/secret and to set FAMOS_SECRET", async (...args) => {
    const result = await cli.run(args, { env, prefix: [...nobody, "env", "-u", "FAMOS_SECRET"] });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).toMatch(/^famos: cannot keep the development secret in \.\/data\/secret \(.*\): .*FAMOS_SECRET.*\n$/);
  });

  it("famos doctor fails on it in a row of its own, in the same words, where it said 'All checks passed.'", async () => {
    const result = await cli.run(["doctor"], { env, prefix: [...nobody, "env", "-u", "FAMOS_SECRET"] });
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(/^secret +FAIL +cannot keep the development secret in \.\/data\/secret \(EACCES on .+\): set FAMOS_SECRET/m);
  });

  it.skipIf(!root)("famos doctor says where a development start keeps its secret when it may write there", async () => {
    const result = await cli.run(["doctor"], { env, prefix: ["env", "-u", "FAMOS_SECRET"] });
    expect(result.stdout).toMatch(/^secret +OK +\(development: generated into \.\/data\/secret at the next start\)$/m);
  });
});
