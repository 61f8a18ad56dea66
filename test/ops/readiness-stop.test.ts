import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { productionEnv, startServer } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until, within } from "../support/until.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";

interface Probe {
  status: number;
  body: unknown;
  /** The request went on the connection kept alive from the probe before (not a new one). */
  reused: boolean;
}

function probeReady(agent: Agent, port: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/readyz", agent }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) as unknown, reused: req.reusedSocket }));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * A load balancer probes /readyz on a connection it keeps alive. During a stop (SIGTERM) the instance
 * serves those connections for a while more (src/web/drain.ts), so such a probe was answered 200
 * "ready" by an instance on its way out, and the balancer kept sending it users. From the moment the
 * stop begins, readiness says 503 "stopping".
 */
describe("/readyz of a stopping `famos serve`", () => {
  // The drain's quiet interval made short (2 s by default) where the probe follows the signal on a new
  // connection: the exit comes without waiting out real seconds. Not for the kept-alive probe: its
  // connection and the listening socket close once `quiet` passed since the first probe, and on a loaded
  // machine reading the log line that the stop began took more than 100 ms (CI at 45ddb392: ECONNREFUSED,
  // 1 of 4,182), so that test keeps the interval a load balancer's connection meets.
  const env = (quiet = "100ms") => productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url, FAMOS_DRAIN_QUIET: quiet });
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "readiness-stop");
  });
  afterAll(async () => {
    await smtp?.stop();
    await database?.drop();
  });

  it("answers 503 stopping on a kept-alive connection once SIGTERM began the stop, and the instance still exits 0", async () => {
    const server = await startServer(env("2s"));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await probeReady(agent, server.port)).toEqual({ status: 200, body: { status: "ready" }, reused: false });
      const exited = server.stop("SIGTERM");
      // Logged just before the drain starts, in the same turn of the event loop.
      await until("the stop to begin", () => server.logLines().some((line) => line.msg === "shutting down"));
      expect(await probeReady(agent, server.port)).toEqual({ status: 503, body: { status: "stopping" }, reused: true });
      expect(await within(exited, "the exit")).toEqual({ code: 0, signal: null });
    } finally {
      agent.destroy();
      await server.stop("SIGKILL");
    }
  }, 60_000);

  // The port opens before the start's last steps (the hashing threads' priority, the cleanup job): a
  // stop arriving then was logged at once but drained only once they were done, and until then a probe
  // was answered 200 "ready" (CI at 3b08a271, once in 511 files). Signalled the moment /healthz first
  // answers, the stop lands inside that window when those steps are slow (a loaded machine); with them
  // slowed by hand (1.5 s before the hashing threads are looked for) both tests here failed before the fix.
  it("answers 503 stopping to a probe that follows a SIGTERM sent the moment the port first answered", async () => {
    const server = await startServer(env());
    const agent = new Agent({ keepAlive: false });
    try {
      const exited = server.stop("SIGTERM");
      await until("the stop to begin", () => server.logLines().some((line) => line.msg === "shutting down"));
      const probe = await probeReady(agent, server.port);
      expect({ status: probe.status, body: probe.body }).toEqual({ status: 503, body: { status: "stopping" } });
      expect(await within(exited, "the exit")).toEqual({ code: 0, signal: null });
    } finally {
      agent.destroy();
      await server.stop("SIGKILL");
    }
  }, 60_000);
});
