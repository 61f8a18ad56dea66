import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { sqliteFilePath } from "../../src/store/file-access.ts";
import { LAST_ADMIN } from "../../src/support/roles.ts";
import { addUser, TEST_SECRET } from "../support/app.ts";
import { FormClient, overHttp, signInFully } from "../support/client.ts";
import { runFamos, startServer, type Exit, type FamosCommand, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { openInstances } from "../store/dialects.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";

/** clock_nanosleep and nanosleep, where SQLite's busy handler waits between its tries for the lock. */
const SLEEPS: Record<string, readonly string[]> = { x64: ["230", "35"], arm64: ["115", "101"] };

/**
 * A process sleeping in a system call: on Linux, what a `famos` process waiting for SQLite's write lock
 * does between its tries (the busy timeout, src/store/database.ts). Nothing else in a command sleeps so;
 * a server's own background writes wait for the same lock, and a round that meets there is only two close together.
 */
function waitingForTheLock(pid: number | undefined): boolean {
  try {
    return (SLEEPS[process.arch] ?? []).includes(readFileSync(`/proc/${pid}/syscall`, "utf8").split(" ")[0]!);
  } catch {
    return false;
  }
}

/** A racer started: the process that will wait for the lock, and its end. */
interface Racer<T> {
  pid: number | undefined;
  done: Promise<T>;
}

/**
 * Starts the racers while this test holds SQLite's write lock on `path`, and lets it go once all wait
 * for it (or one has waited 3 s, well within the 5 s busy timeout, on a machine too loaded for the other
 * to get there: that round still counts, as two close together). Their ends, and whether they met.
 */
async function meet<T>(path: string, starts: Array<() => Racer<T>>): Promise<{ ends: T[]; met: boolean }> {
  const hold = new SQLite(path);
  hold.exec("begin immediate");
  let met = false;
  const racers = starts.map((start) => start());
  const ended = racers.map(() => false);
  racers.forEach((racer, i) => void racer.done.finally(() => (ended[i] = true)));
  try {
    let firstWaiting: number | null = null;
    await until(
      "both racers waiting for the write lock",
      () => {
        const waiting = racers.filter((racer) => waitingForTheLock(racer.pid)).length;
        if (waiting > 0) firstWaiting ??= Date.now();
        met = waiting === racers.length;
        return met || ended.some(Boolean) || (firstWaiting !== null && Date.now() - firstWaiting > 3000);
      },
      30_000,
      5,
    );
  } finally {
    hold.exec("commit");
    hold.close();
  }
  return { ends: await Promise.all(racers.map((racer) => racer.done)), met };
}

const enabledAdmins = async (deps: Deps) =>
  (await deps.db.selectFrom("users").select("login_id").where("role", "=", "admin").where("disabled_at", "is", null).execute()).map((u) => u.login_id);

/** A `famos` command as a racer. */
const command = (args: string[], env: Record<string, string>): (() => Racer<{ run: FamosCommand; exit: Exit }>) => () => {
  const run = runFamos(args, env);
  return { pid: run.child.pid, done: run.exited.then((exit) => ({ run, exit })) };
};

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

  it("six rounds, one of each pair: one is written, the other refused as the last administrator, and one stays", async () => {
    let met = 0;
    for (let round = 0; round < PAIRS.length; round += 1) {
      const pair = PAIRS[round % PAIRS.length]!;
      // Only this round's two are enabled administrators: the one the last round left becomes a user.
      await deps.db.updateTable("users").set({ role: "user" }).where("role", "=", "admin").execute();
      const targets = [
        await addUser(deps, { loginId: `r${round}.first`, role: "admin", partnerNumber: `r${round}-a` }),
        await addUser(deps, { loginId: `r${round}.second`, role: "admin", partnerNumber: `r${round}-b` }),
      ];
      const { ends, met: meeting } = await meet(
        path,
        pair.map((action, i) => command(ACTIONS[action](targets[i]!.login_id, targets[i]!.partner_number), env)),
      );
      const [runs, exits] = [ends.map((end) => end.run), ends.map((end) => end.exit)];
      met += meeting ? 1 : 0;
      const said = runs.map((run, i) => `${pair[i]} ${targets[i]!.login_id}: exit ${exits[i]!.code}\n${run.stderr()}${run.stdout()}`).join("\n");
      // Soft: a broken rule shows in how many rounds, not only the first.
      expect.soft(exits.map((exit) => exit.code).sort(), said).toEqual([0, 1]);
      expect.soft(runs.find((_, i) => exits[i]!.code === 1)?.stderr(), said).toContain(LAST_ADMIN);
      expect.soft(said).not.toMatch(/locked|busy/);
      expect.soft(await enabledAdmins(deps), said).toHaveLength(1);
    }
    // The rounds are about two that meet at the lock; a machine too loaded for most to meet proves little.
    expect(met, "rounds in which both commands waited for the lock together").toBeGreaterThanOrEqual(2);
  });
});

/**
 * The same across `famos serve` and the command line: an administrator on the console (a real server
 * process, over HTTP) demotes the other of the last two enabled administrators while the operator's
 * `famos user role` demotes the console's administrator. One is written: the console's change (the
 * command is then refused as the last administrator), or the command's (the console's administrator is
 * then no longer one, refused 403, or counted last, 409); one enabled administrator stays. Here the
 * command took the lock first in every round seen (SQLite's busy handler keeps no queue), so this
 * checks the two processes' turns and the console's refusal more than the count; the pairs above, the count.
 */
describe("famos serve's console and famos user role taking the last two administrators' access away at once (sqlite)", { timeout: 60_000 }, () => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let deps: Deps;
  let smtp: TestSmtpServer;
  let server: ServerProcess;
  let env: Record<string, string>;
  let admin: Awaited<ReturnType<typeof addUser>>;

  beforeAll(async () => {
    t = await openInstances("sqlite", 1, "last_admin_serve");
    deps = t.deps[0]!;
    smtp = await startSmtpServer();
    env = { FAMOS_DATABASE_URL: t.database.url, FAMOS_SECRET: TEST_SECRET, FAMOS_LOG_LEVEL: "warn" };
    // Before the server starts: on a database with users, development mode makes no demo user.
    admin = await addUser(deps, { loginId: "console.admin", role: "admin" });
    server = await startServer({ ...env, FAMOS_SMTP_URL: smtp.url, FAMOS_RATE_LIMIT: "0" });
  });
  afterAll(async () => {
    await server?.stop("SIGKILL");
    await smtp?.stop();
    await t?.close();
  });

  it("six rounds: one demotion is written, the other refused, and one enabled administrator stays", async () => {
    const path = sqliteFilePath(t.database.url)!;
    const client = new FormClient(overHttp(server.url));
    await signInFully(client, smtp, admin);
    let met = 0;
    for (let round = 0; round < 6; round += 1) {
      // Only the console's administrator and this round's other are enabled administrators.
      await deps.db.updateTable("users").set({ role: "user" }).where("role", "=", "admin").execute();
      await deps.db.updateTable("users").set({ role: "admin" }).where("id", "=", admin.id).execute();
      const other = await addUser(deps, { loginId: `s${round}.other`, role: "admin" });
      expect((await client.get(`/support/users/${other.id}`)).statusCode).toBe(200);
      const { ends, met: meeting } = await meet<unknown>(path, [
        () => ({ pid: server.child.pid, done: client.post(`/support/users/${other.id}/role`, { role: "user" }) }),
        command(["user", "role", "console.admin", "user"], env),
      ]);
      met += meeting ? 1 : 0;
      const answer = ends[0] as Awaited<ReturnType<FormClient["post"]>>;
      const { run, exit } = ends[1] as { run: FamosCommand; exit: Exit };
      const said = `console: ${answer.statusCode}\n${answer.body.slice(0, 300)}\nfamos user role: exit ${exit.code}\n${run.stderr()}${run.stdout()}\nserve: ${server.stderr()}`;
      const consoleWrote = answer.statusCode === 303;
      expect.soft(consoleWrote ? exit.code === 1 : exit.code === 0 && [403, 409].includes(answer.statusCode), said).toBe(true);
      if (consoleWrote) expect.soft(run.stderr(), said).toContain(LAST_ADMIN);
      expect.soft(said).not.toMatch(/locked|busy/);
      expect.soft(await enabledAdmins(deps), said).toHaveLength(1);
    }
    expect(met, "rounds in which both waited for the lock together").toBeGreaterThanOrEqual(2);
  });
});
