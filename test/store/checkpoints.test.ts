import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { BOUND_PAGES, SQLITE_AUTOCHECKPOINT_PAGES, type CheckpointResult } from "../../src/store/checkpoints.ts";
import { openStore, type Store, type StoreOptions } from "../../src/store/database.ts";
import { REPO_ROOT } from "../support/server-process.ts";
import { until } from "../support/until.ts";

/**
 * Issue 17: `famos serve` checkpoints SQLite's write-ahead log on a thread of its own, so that no
 * request waits while committed pages are copied into the database file and both files are synced.
 */
describe("SQLite checkpoints on their own thread", () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function databasePath(): string {
    const dir = mkdtempSync(join(tmpdir(), "famos-checkpoints-"));
    dirs.push(dir);
    return join(dir, "famos.db");
  }

  async function open(path: string, options: StoreOptions["backgroundCheckpoints"]): Promise<{ store: Store; results: CheckpointResult[] }> {
    const results: CheckpointResult[] = [];
    const store = openStore(`sqlite:${path}`, { backgroundCheckpoints: { ...options, onCheckpoint: (result) => results.push(result) } });
    stores.push(store);
    await store.checkpoints!.ready;
    await sql`create table rows (n integer primary key, filler blob not null)`.execute(store.db);
    return { store, results };
  }

  /** `count` commits of one row of about 3 KB each: at least one page of log per commit. */
  async function commit(store: Store, count: number, from = 0): Promise<void> {
    for (let n = from + 1; n <= from + count; n += 1) await sql`insert into rows (n, filler) values (${n}, randomblob(3000))`.execute(store.db);
  }

  /** Frames the log file has held (SQLite reuses the file from its start after a completed checkpoint). */
  function logFrames(path: string): number {
    const pageSize = 4096;
    return Math.max(0, Math.floor((statSync(`${path}-wal`).size - 32) / (pageSize + 24)));
  }

  const pragma = async (store: Store, name: string) => (await sql<Record<string, number>>`${sql.raw(`pragma ${name}`)}`.execute(store.db)).rows[0]![name];

  it("leaves the serving connection's commits without a checkpoint, and copies everything when asked", async () => {
    const path = databasePath();
    // The thread checks only when asked: what the serving connection does on its own shows.
    const { store, results } = await open(path, { intervalMs: 3_600_000 });
    expect(await pragma(store, "wal_autocheckpoint")).toBe(BOUND_PAGES);
    await commit(store, 1500);
    // SQLite's own rule would have checkpointed at 1,000 pages and started the log again from its start.
    expect(logFrames(path)).toBeGreaterThan(1500);

    store.checkpoints!.checkpointNow();
    const done = await until("a checkpoint", () => results.at(-1));
    expect(done.busy).toBe(0);
    expect(done.checkpointed).toBe(done.log);
    expect(done.log).toBeGreaterThan(1500);
    // Everything is in the database file: the next commit starts the log again from its start.
    await commit(store, 1, 1500);
    store.checkpoints!.checkpointNow();
    await until("a second checkpoint", () => results.length === 2);
    expect(results[1]!.log).toBeLessThan(10);
  });

  /**
   * A result of the thread's that is complete and reflects every commit made so far: the thread's
   * messages wait while this thread commits, so one received now may have been sent mid-way; two
   * complete ones in a row with the same log were sent after the last commit.
   */
  const settled = (results: CheckpointResult[], from: number) => () => {
    const [before, last] = results.slice(from).slice(-2);
    return before !== undefined && last !== undefined && last.log > 0 && last.checkpointed === last.log && before.log === last.log;
  };

  /**
   * The log file's header: its checkpoint sequence number, which SQLite raises each time a writer
   * starts the log again from its start (the WAL format, bytes 12–15), and the frames the file holds.
   */
  function logHeader(path: string): { sequence: number; frames: number } {
    const header = readFileSync(`${path}-wal`).subarray(0, 32);
    return { sequence: header.readUInt32BE(12), frames: logFrames(path) };
  }

  it("checkpoints on its own every interval, after which the log is written again from its start", async () => {
    const path = databasePath();
    const { store, results } = await open(path, { intervalMs: 20 });
    await commit(store, 1000);
    // Every frame is in the database file: the next commit writes the log from its start, so the
    // file does not grow. (How far the log grows between checkpoints depends on how often the thread
    // gets a core: under load it can be thousands of frames. That the log restarts does not.) The
    // thread checkpoints every 20 ms here: a commit that meets it reading the log cannot start the log
    // again (seen once in CI under load), so each try waits for a complete checkpoint first; a log
    // that never restarts fails all five.
    let before: { sequence: number; frames: number };
    let after: { sequence: number; frames: number };
    let tries = 0;
    do {
      await until("a complete checkpoint after the commits", settled(results, results.length));
      before = logHeader(path);
      await commit(store, 1, 1000 + tries);
      tries += 1;
      after = logHeader(path);
    } while (after.sequence === before.sequence && tries < 5);
    expect(after.sequence).toBe(before.sequence + 1);
    expect(after.frames).toBe(before.frames);
    const from = results.length;
    await commit(store, 999, 1000 + tries);
    await until("a complete checkpoint after more commits", settled(results, from));
    expect((await sql<{ c: number }>`select count(*) as c from rows`.execute(store.db)).rows[0]!.c).toBe(1999 + tries);
  });

  it("bounds the log by the serving connection's own checkpoint past the bound", async () => {
    const path = databasePath();
    const { store } = await open(path, { intervalMs: 3_600_000, boundPages: 300 });
    await commit(store, 1500);
    expect(logFrames(path)).toBeLessThan(400);
  });

  it("gives the checkpoints back to the serving connection when the thread fails", async () => {
    const path = databasePath();
    const errors: Error[] = [];
    const store = openStore(`sqlite:${path}`, {
      backgroundCheckpoints: { script: new URL("./fixtures/failing-checkpoint-worker.mjs", import.meta.url), onError: (error) => errors.push(error) },
    });
    stores.push(store);
    await expect(store.checkpoints!.ready).rejects.toThrow(/cannot open the database/);
    await until("the error reported", () => errors.length > 0);
    expect(errors[0]!.message).toMatch(/cannot open the database/);
    expect(await pragma(store, "wal_autocheckpoint")).toBe(SQLITE_AUTOCHECKPOINT_PAGES);
    await sql`create table rows (n integer primary key, filler blob not null)`.execute(store.db);
    await commit(store, 1500);
    expect(logFrames(path)).toBeLessThan(1100);
  });

  /**
   * A full disk fails the thread's checkpoints (copying new pages needs the database file to grow).
   * The thread ended at the first fault, so the serving connection checkpointed in the commits that
   * users wait for until the next restart, however soon the disk had room again.
   */
  it("goes on after a checkpoint fails for want of space, and takes the checkpoints back once one succeeds", () => {
    const dir = mkdtempSync(join(tmpdir(), "famos-checkpoints-full-"));
    dirs.push(dir);
    // A 4 MiB file system of the fixture's own (a mount namespace: nothing mounted outside it).
    const script = 'mount -t tmpfs -o size=4m tmpfs "$0" && exec "$@"';
    const run = spawnSync("unshare", ["-m", "sh", "-c", script, dir, process.execPath, "--import", "tsx", "test/store/fixtures/checkpoint-full-disk.ts", join(dir, "famos.db")], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const events = run.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const faults = events.filter((event) => "code" in event);
    expect(faults.map((event) => event.code)).toEqual(["SQLITE_FULL"]);
    const resumed = events.findIndex((event) => "resumed" in event);
    expect(resumed).toBeGreaterThan(events.indexOf(faults[0]!));
    const lastAt = events.map((event) => "checkpoint" in event).lastIndexOf(true);
    expect(lastAt).toBeGreaterThan(resumed);
    const last = events[lastAt]!.checkpoint as CheckpointResult;
    expect(last.checkpointed).toBe(last.log);
    expect(events.at(-1)).toEqual({ walAutocheckpoint: BOUND_PAGES });
  });

  it("stops the thread on close, and the last connection leaves the database file whole", async () => {
    const path = databasePath();
    const { store } = await open(path, { intervalMs: 3_600_000 });
    await commit(store, 50);
    await store.close();
    stores.splice(stores.indexOf(store), 1);
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = new SQLite(path, { readonly: true });
    expect(reopened.prepare("select count(*) as c from rows").get()).toEqual({ c: 50 });
    reopened.close();
  });

  it("loses no commit when the process is killed while the thread copies", async () => {
    const path = databasePath();
    const child = spawn(process.execPath, ["--import", "tsx", "test/store/fixtures/checkpoint-writer.ts", path], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // Past several checkpoints' worth of log, then killed without warning.
    await until(`the writer's commits (${err})`, () => out.split("\n").length > 2500, 60_000);
    child.kill("SIGKILL");
    await exited;
    const committed = Math.max(...out.split("\n").filter((line) => line !== "").map(Number));
    const database = new SQLite(path);
    expect(database.pragma("integrity_check", { simple: true })).toBe("ok");
    const { c, top } = database.prepare("select count(*) as c, max(n) as top from rows").get() as { c: number; top: number };
    database.close();
    // Every commit the writer saw finish is there (one more may have finished after its last line).
    expect(top).toBeGreaterThanOrEqual(committed);
    expect(c).toBe(top);
  }, 90_000);
});
