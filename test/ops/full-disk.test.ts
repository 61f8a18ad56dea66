import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FormClient, overHttp } from "../support/client.ts";
import { freePort } from "../support/nginx.ts";
import { ensureBuilt, FAMOS_BIN, REPO_ROOT } from "../support/server-process.ts";
import { until } from "../support/until.ts";

/**
 * `famos serve` on SQLite whose disk fills up while it runs: a load balancer must stop sending users
 * to an instance that can sign nobody in, and send them again once the disk has room.
 */
describe("famos serve on a disk that fills up", () => {
  let dir: string;
  let full: string;
  let server: ChildProcess;
  let url: string;
  let output = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "famos-full-disk-"));
    full = join(dir, "full");
    mkdirSync(full);
    const port = await freePort();
    // A 2 MiB file system of the server's own (a mount namespace: nothing mounted outside it).
    const script = 'mount -t tmpfs -o size=2m tmpfs "$0" && exec "$@"';
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FAMOS_") && name !== "NODE_ENV"));
    ensureBuilt();
    server = spawn("unshare", ["-m", "sh", "-c", script, full, "setpriv", "--pdeathsig", "TERM", "--", process.execPath, FAMOS_BIN, "serve"], {
      cwd: REPO_ROOT,
      env: { ...env, FAMOS_DATABASE_URL: `sqlite:${join(full, "famos.db")}`, FAMOS_HOST: "127.0.0.1", FAMOS_PORT: String(port), FAMOS_RATE_LIMIT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    server.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    url = `http://127.0.0.1:${port}`;
    await until("famos serve", async () => (await fetch(`${url}/healthz`)).ok, 30_000, 50);
  });
  afterAll(() => {
    server?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `command` in the server's mount namespace, where the small file system is. */
  const inServersMounts = (command: string) => spawnSync("nsenter", ["-t", String(server.pid), "-m", "sh", "-c", command, full]);
  const signIn = async () => {
    const password = /password "([^"]+)"/.exec(output)![1]!;
    const client = new FormClient(overHttp(url));
    await client.get("/login");
    return (await client.post("/login", { loginId: "demo", password })).statusCode;
  };

  it("goes unready once sign-ins fail for want of space, says why in the log, and ready again once there is room", async () => {
    expect(await signIn()).toBe(303);
    inServersMounts('head -c 2m /dev/zero > "$0/fill"');
    // The write-ahead log's pages are reused while they last: a few dozen sign-ins still succeed.
    let failed = 0;
    for (let i = 0; i < 200 && failed === 0; i++) if ((await signIn()) === 500) failed++;
    expect(failed, "no sign-in failed on the full disk").toBe(1);
    // The log is written in batches: the failed request's line comes a moment later.
    const faults = await until("the failed request's log line", () => {
      const lines = output.split("\n").filter((line) => line.includes('"msg":"request failed"'));
      return lines.length > 0 ? lines : null;
    });
    expect(faults.join("\n")).toMatch(/database or disk is full/);
    expect(faults.join("\n")).not.toMatch(/cannot rollback/);

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "database cannot take writes" });

    inServersMounts('rm "$0/fill"');
    await until("ready again", async () => (await fetch(`${url}/readyz`)).status === 200, 20_000, 500);
    expect(await signIn()).toBe(303);
  });
});
