import { once } from "node:events";
import { closeSync, openSync } from "node:fs";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/database.ts";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { signedInOnServer } from "../web/protected-support.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";

/**
 * Standard output that fails (app/log-destination.ts): a pipe whose reader went away (`famos serve |
 * filter` whose filter died, a log shipper restarted: EPIPE), a file on a full disk (/dev/full:
 * ENOSPC). The server keeps answering and signing in, says once on standard error that its log lines
 * are lost, writes no more of them, and still stops cleanly (the exit's last flush throws nothing).
 */
describe("a real `famos serve` whose standard output fails", () => {
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  let server: ServerProcess | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "stdout-fails");
  });
  afterEach(async () => {
    await server?.stop("SIGKILL");
    await store?.close();
    server = store = undefined;
  });
  afterAll(async () => {
    await smtp?.stop();
    await database?.drop();
  });

  // The drain's quiet interval at its least (0.1 s, FAMOS_DRAIN_QUIET): the stop is what is checked here
  // (exit 0, the notice once), not how long the drain waits for a balancer; 2 s of waiting per stop otherwise.
  const env = () => productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url, FAMOS_DRAIN_QUIET: "100ms" });

  /** Requests (each logs a line) until standard error tells of the lost log, or the process ends. */
  async function untilNoticed(running: ServerProcess): Promise<void> {
    let exited = false;
    void running.exited.then(() => (exited = true));
    await until(
      "the lost log to be noticed (or the process to end)",
      async () => {
        if (exited) return true;
        await fetch(`${running.url}/healthz`).catch(() => undefined);
        return running.stderr().includes("standard output");
      },
      10_000,
      100,
    );
    expect(exited, running.stderr()).toBe(false);
  }

  /** Still answering and signing in; the notice said once however many lines were lost; SIGTERM exits 0. */
  async function expectServingUntilStopped(running: ServerProcess, code: string): Promise<void> {
    const notice = new RegExp(`^FAMOS: standard output failed \\(${code}\\); log lines are lost from now on`);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    const signedIn = await signedInOnServer(running, database.url, smtp);
    store = signedIn.store;
    expect((await signedIn.client.get("/profile")).statusCode).toBe(200);
    for (let i = 0; i < 5; i += 1) await fetch(`${running.url}/login`);
    // Every line those requests logged, and the stop's own, was written (or lost) before the exit; all
    // the process wrote on standard error has been read once that pipe closed: no wait for a batch.
    const stderrRead = once(running.child.stderr!, "close");
    expect(await running.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    await stderrRead;
    expect(running.stderr().trim().split("\n")).toEqual([expect.stringMatching(notice)]);
  }

  it("keeps serving when the pipe's reader goes away (EPIPE)", async () => {
    const running = (server = await startServer(env()));
    running.child.stdout!.destroy();
    await untilNoticed(running);
    await expectServingUntilStopped(running, "EPIPE");
  });

  it("keeps serving when writes to standard output fail otherwise (a full disk, ENOSPC)", async () => {
    const full = openSync("/dev/full", "w");
    try {
      server = await startServer(env(), full);
    } finally {
      closeSync(full);
    }
    await untilNoticed(server);
    await expectServingUntilStopped(server, "ENOSPC");
  });
});
