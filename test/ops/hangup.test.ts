import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";

/**
 * SIGHUP (a closed terminal, a log rotation script's `kill -HUP`) must not end `famos serve`: Node's
 * default ended it at once, with no drain and no log line, dropping the requests in flight and leaving
 * the mail being sent claimed for a minute. FAMOS reads its settings only at start and logs to
 * standard output, so there is nothing to reload or reopen: it says so and goes on serving.
 */
describe("SIGHUP to famos serve", () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "hangup");
    server = await startServer(productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url }));
  });
  afterAll(async () => {
    await server?.stop("SIGKILL");
    await smtp?.stop();
    await database?.drop();
  });

  it("is logged and ignored: the server goes on answering", async () => {
    server.child.kill("SIGHUP");
    await until("the SIGHUP log line", () => server.stdout().includes("SIGHUP ignored"));
    expect(server.child.exitCode).toBe(null);
    expect(server.child.signalCode).toBe(null);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
