import { createServer, request, Agent, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startNginx, type RunningNginx } from "../support/nginx.ts";
import { productionEnv, startServer } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";

/**
 * A rolling restart behind nginx (README's site: two instances, `keepalive`, max_fails=0): the instance
 * that gets SIGTERM must not drop a request nginx had already sent it on a kept-alive connection. Node's
 * server.close() closed every connection idle at that instant, and one whose next request was on its
 * way looked idle: nginx got the connection closed under its POST, which it never sends twice, and
 * answered 502 (once in a run of the code posts). Here clients post without pause through nginx while
 * the instance stops; the other "instance" is a plain server that answers everything.
 *
 * nginx keeps up to 64 idle connections here (the README's site: 16), more than the 12 clients ever
 * use at once, so in the steady load nginx opens few new connections: what is tested is the
 * connections kept alive. Two races no stop can close remain (README, "Signals"): a connection nginx
 * opens in the instant the listening socket closes (in the kernel's accept queue, not yet taken by
 * Node) is reset, and so is one nginx takes from its cache in the instant the drain's end closes it
 * after 2 s unused. Under load one post of a stop was answered 502 so, now and then (one suite run; 1
 * of 4 runs beside two busy CPU loops), where without the drain every connection idle at the stop was
 * (12 of 12). So a round may have one such post, never more, and no other fault.
 */
describe("SIGTERM to famos serve behind nginx during steady posts", () => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let other: Server;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "rolling-stop");
    other = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("other instance"));
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    other?.closeAllConnections();
    other?.close();
    await smtp?.stop();
    await database?.drop();
  });

  async function stopUnderLoad(round: number): Promise<{ statuses: Map<number, number>; failures: string[]; exit: unknown; nginxLog: string }> {
    const server = await startServer(productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url }));
    const port = await freePort();
    let nginx: RunningNginx | undefined;
    const agent = new Agent({ keepAlive: true, maxSockets: 12 });
    try {
      nginx = await startNginx({
        httpConfig: `
upstream famos {
    server 127.0.0.1:${server.port} max_fails=0;
    server 127.0.0.1:${(other.address() as AddressInfo).port} max_fails=0;
    keepalive 64;
}
server {
    listen 127.0.0.1:${port};
    location / {
        proxy_pass http://famos;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_next_upstream error timeout http_502 http_503;
    }
}`,
      });
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      let running = true;
      const post = () =>
        new Promise<void>((resolve) => {
          const body = `login_id=rolling-stop-${round}&password=not-the-password`;
          const req = request(
            { host: "127.0.0.1", port, path: "/login", method: "POST", agent, headers: { "content-type": "application/x-www-form-urlencoded", "content-length": body.length } },
            (res) => {
              statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1);
              res.resume();
              res.on("end", resolve);
            },
          );
          req.on("error", (error) => {
            failures.push(error.message);
            resolve();
          });
          req.end(body);
        });
      const loops = Array.from({ length: 12 }, async () => {
        while (running) await post();
      });
      // Load on both instances, then the stop in the middle of it.
      await until("posts answered by famos", () => [...statuses.keys()].some((status) => status !== 200) && [...statuses.values()].reduce((a, b) => a + b) > 200);
      const exited = server.stop("SIGTERM");
      const exit = await exited;
      await new Promise((resolve) => setTimeout(resolve, 300));
      running = false;
      await Promise.all(loops);
      return { statuses, failures, exit, nginxLog: nginx.errorLog() };
    } finally {
      agent.destroy();
      await nginx?.stop();
      await server.stop("SIGKILL");
    }
  }

  it("every post on a kept-alive connection is answered by an instance (at most one caught in the instant of a close), and the instance exits 0", async () => {
    for (let round = 0; round < 2; round++) {
      const { statuses, failures, exit, nginxLog } = await stopUnderLoad(round);
      const upstreamErrors = nginxLog.split("\n").filter((line) => /prematurely closed|reset by peer|upstream sent no valid/.test(line));
      const bad = (statuses.get(502) ?? 0) + (statuses.get(504) ?? 0);
      const otherUpstreamErrors = upstreamErrors.filter((line) => !/reset by peer/.test(line));
      expect({ round, failures, otherUpstreamErrors, exit }).toEqual({ round, failures: [], otherUpstreamErrors: [], exit: { code: 0, signal: null } });
      expect(bad, `round ${round}: ${upstreamErrors.join("\n")}`).toBeLessThanOrEqual(1);
    }
  }, 120_000);
});
