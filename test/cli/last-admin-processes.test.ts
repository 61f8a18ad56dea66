import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { sqliteFilePath } from "../../src/store/file-access.ts";
import { LAST_ADMIN } from "../../src/support/roles.ts";
import { addUser, TEST_SECRET } from "../support/app.ts";
import { runFamos, type Exit, type FamosCommand } from "../support/server-process.ts";
import { until } from "../support/until.ts";
import { openInstances } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";

/** clock_nanosleep and nanosleep, where SQLite's busy handler waits between its tries for the lock. */
const SLEEPS: Record<string, readonly string[]> = { x64: ["230", "35"], arm64: ["115", "101"] };

/**
 * A process sleeping in a system call: on Linux, what a `famos` process waiting for SQLite's write lock
 * does between its tries (the busy timeout, src/store/database.ts). Nothing else in a command sleeps so.
 */
function waitingForTheLock(pid: number | undefined): boolean {
  try {
    return (SLEEPS[process.arch] ?? []).includes(readFileSync(`/proc/${pid}/syscall`, "utf8").split(" ")[0]!);
  } catch {
    return false;
  }
}

/**
 * SQLite out of the box: `famos serve` and the operator's `famos user …` from a shell or cron are two
 * processes on one file, and nothing in one process orders them: the rule that an enabled administrator
 * always stays (support/roles.ts, lastAdminRefusal) holds across them only because every transaction
 * takes the write lock at its start (BEGIN IMMEDIATE), waiting for it (busy timeout), and counts inside
 * it. The in-process races (console/last-admin-races.test.ts) share one connection, whose transactions
 * run in turn whatever BEGIN says. Here each round, two real `famos` processes each take the access of
 * one of the last two enabled administrators away (role, disable, delete --erase, import --sync), made to
 * meet: this test holds the write lock until both wait for it, then lets them go at once. Exactly one is
 * written; the other is refused in the last administrator's words (exit 1), never "database is locked".
 */
describe("two famos processes taking the last two administrators' access away at once (sqlite)", { timeout: 60_000 }, () => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let deps: Deps;
  let path: string;
  let env: Record<string, string>;
  const hash = bcryptHash("a password of some length");

  beforeAll(async () => {
    t = await openInstances("sqlite", 1, "last_admin_processes");
    deps = t.deps[0]!;
    path = sqliteFilePath(t.database.url)!;
    env = { FAMOS_DATABASE_URL: t.database.url, FAMOS_SECRET: TEST_SECRET, FAMOS_LOG_LEVEL: "warn" };
  });
  afterAll(async () => t?.close());

  const enabledAdmins = async () =>
    (await deps.db.selectFrom("users").select("login_id").where("role", "=", "admin").where("disabled_at", "is", null).execute()).map((u) => u.login_id);

  /** Each action's command on `loginId` of partner `partner`; import --sync names the partner without them. */
  const ACTIONS = {
    role: (loginId: string) => ["user", "role", loginId, "user"],
    disable: (loginId: string) => ["user", "disable", loginId],
    erase: (loginId: string) => ["user", "delete", loginId, "--erase"],
    sync: (loginId: string, partner: string) => {
      const file = join(dirname(path), `${loginId}.csv`);
      writeFileSync(file, `${HEADER}\nstays.${loginId},Stays Here,${partner},,,${hash}\n`);
      return ["user", "import", file, "--sync"];
    },
  };
  type Action = keyof typeof ACTIONS;
  const PAIRS: Array<[Action, Action]> = [
    ["role", "role"],
    ["disable", "disable"],
    ["role", "disable"],
    ["erase", "role"],
    ["sync", "disable"],
    ["erase", "sync"],
  ];

  /**
   * Starts the two commands while this test holds SQLite's write lock, and lets it go once both wait
   * for it (or one has waited 3 s, well within its 5 s busy timeout, on a machine too loaded for the
   * other to get there: that round still counts, as two commands close together). Whether they met.
   */
  async function meet(commands: string[][]): Promise<{ runs: FamosCommand[]; exits: Exit[]; met: boolean }> {
    const hold = new SQLite(path);
    hold.exec("begin immediate");
    let met = false;
    const runs = commands.map((args) => runFamos(args, env));
    const exited = runs.map(() => false);
    runs.forEach((run, i) => void run.exited.then(() => (exited[i] = true)));
    try {
      let firstWaiting: number | null = null;
      await until(
        "both commands waiting for the write lock",
        () => {
          const waiting = runs.filter((run) => waitingForTheLock(run.child.pid)).length;
          if (waiting > 0) firstWaiting ??= Date.now();
          met = waiting === runs.length;
          return met || exited.some(Boolean) || (firstWaiting !== null && Date.now() - firstWaiting > 3000);
        },
        30_000,
        5,
      );
    } finally {
      hold.exec("commit");
      hold.close();
    }
    return { runs, exits: await Promise.all(runs.map((run) => run.exited)), met };
  }

  it("twelve rounds, two of each pair: one is written, the other refused as the last administrator, and one stays", async () => {
    let met = 0;
    for (let round = 0; round < 12; round += 1) {
      const pair = PAIRS[round % PAIRS.length]!;
      // Only this round's two are enabled administrators: the one the last round left becomes a user.
      await deps.db.updateTable("users").set({ role: "user" }).where("role", "=", "admin").execute();
      const targets = [
        await addUser(deps, { loginId: `r${round}.first`, role: "admin", partnerNumber: `r${round}-a` }),
        await addUser(deps, { loginId: `r${round}.second`, role: "admin", partnerNumber: `r${round}-b` }),
      ];
      const { runs, exits, met: meeting } = await meet(pair.map((action, i) => ACTIONS[action](targets[i]!.login_id, targets[i]!.partner_number)));
      met += meeting ? 1 : 0;
      const said = runs.map((run, i) => `${pair[i]} ${targets[i]!.login_id}: exit ${exits[i]!.code}\n${run.stderr()}${run.stdout()}`).join("\n");
      // Soft: a broken rule shows in how many rounds, not only the first.
      expect.soft(exits.map((exit) => exit.code).sort(), said).toEqual([0, 1]);
      expect.soft(runs.find((_, i) => exits[i]!.code === 1)?.stderr(), said).toContain(LAST_ADMIN);
      expect.soft(said).not.toMatch(/locked|busy/);
      expect.soft(await enabledAdmins(), said).toHaveLength(1);
    }
    // The rounds are about two that meet at the lock; a machine too loaded for most to meet proves little.
    expect(met, "rounds in which both commands waited for the lock together").toBeGreaterThanOrEqual(6);
  });
});
