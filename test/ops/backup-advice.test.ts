import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.ts";
import { until } from "../support/until.ts";

/** The README's SQLite backup commands, as an operator pastes them. */
function readmeBackupCommands(): string {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Backups"));
  return /```sh\n([\s\S]*?)```/.exec(section)![1]!;
}

/**
 * A large database written to all the time, as a busy instance's is: sqlite3's `.backup` copies a
 * hundred pages at a time and starts again whenever another process commits, so it never finished
 * (and left a half-written file under the backup's name). The README's commands must finish, and
 * leave only a whole, checked copy.
 */
// Without the sqlite3 command a developer's run skips it; CI (CI set) installs it (.ci/run) and fails loudly if it is missing.
describe.skipIf(!existsSync("/usr/bin/sqlite3") && !process.env.CI)("the README's SQLite backup on a large database being written", () => {
  let dir: string;
  let writer: ReturnType<typeof spawn>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "famos-backup-"));
    mkdirSync(join(dir, "data"));
    const database = join(dir, "data/famos.db");
    const made = spawnSync("sqlite3", [
      database,
      "pragma journal_mode=wal; create table t(id integer primary key, v blob); with recursive c(x) as (select 1 union all select x+1 from c where x<20000) insert into t(v) select randomblob(2000) from c;",
    ]);
    expect(made.status).toBe(0);
    // Another process commits every 2 ms, as famos serve does under load.
    const script = `const db = new (require("better-sqlite3"))(process.argv[1]); db.pragma("busy_timeout = 5000");
      const insert = db.prepare("insert into t(v) values (randomblob(100))");
      setInterval(() => { try { insert.run(); } catch {} }, 2);`;
    writer = spawn(process.execPath, ["-e", script, database], { cwd: REPO_ROOT, stdio: "ignore" });
    await until("the writer's first commits", () => spawnSync("sqlite3", [database, "select count(*) > 20010 from t"], { encoding: "utf8" }).stdout === "1\n", 10_000, 50);
  });
  afterAll(() => {
    writer?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("finishes, and leaves one whole copy that passes SQLite's integrity check", () => {
    const run = spawnSync("timeout", ["30", "bash", "-e", "-c", readmeBackupCommands()], { cwd: dir, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const copies = readdirSync(join(dir, "backups"));
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/^famos-[\d-]+\.db$/);
    const check = spawnSync("sqlite3", [join(dir, "backups", copies[0]!), "pragma integrity_check; select count(*) >= 20000 from t;"], { encoding: "utf8" });
    expect(check.stdout).toBe("ok\n1\n");
  });
});
