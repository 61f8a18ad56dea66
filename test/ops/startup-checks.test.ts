import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";

/** What `famos serve` checks and says at start: settings it does not know, and whether SMTP works. */
describe("famos serve at start", () => {
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  const servers: ServerProcess[] = [];
  const serve = async (smtpPassword: string, extra: Record<string, string> = {}) => {
    const server = await startServer(
      productionEnv({
        FAMOS_DATABASE_URL: database.url,
        FAMOS_SMTP_URL: `smtp://famos:${encodeURIComponent(smtpPassword)}@127.0.0.1:${smtp.port}?ignoreTLS=true`,
        ...extra,
      }),
    );
    servers.push(server);
    return server;
  };
  const metricLine = async (server: ServerProcess) => {
    let line: string | undefined;
    await until("the SMTP check in /metrics", async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      line = text.split("\n").find((l) => l.startsWith("famos_smtp_check_ok{"));
      return line !== undefined;
    });
    return line!;
  };

  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { famos: "right horse battery" } });
    database = await testDatabase("sqlite", "startup-checks");
  });
  afterAll(async () => {
    for (const server of servers) await server.stop("SIGKILL");
    await smtp?.stop();
    await database?.drop();
  });

  it("warns of a misspelt setting naming the nearest known one, and still starts", async () => {
    const server = await serve("right horse battery", { FAMOS_SMTP_ULR: "smtp://elsewhere.example" });
    expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
    const warning = server.logLines().find((l) => l.setting === "FAMOS_SMTP_ULR");
    expect(warning).toMatchObject({ level: 40, suggestion: "FAMOS_SMTP_URL" });
    expect(warning?.msg).toContain("did you mean FAMOS_SMTP_URL?");
  });

  it("logs one clear line when SMTP authentication fails, still serves, and exposes the result in /metrics", async () => {
    const server = await serve("wrong password");
    expect(await metricLine(server)).toBe('famos_smtp_check_ok{failed_step="auth"} 0');
    // The gauge is set just before the line is logged, but the line reaches this process through the
    // child's stdout pipe, which may be read after /metrics' answer: wait for it, then count.
    const failed = () => server.logLines().filter((l) => String(l.msg).startsWith("SMTP check failed"));
    await until("the SMTP check's log line", () => failed().length > 0);
    const failures = failed();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 50 });
    expect(failures[0]!.msg).toMatch(/^SMTP check failed at auth failed: 535 .*FAMOS_SMTP_URL/);
    expect(server.stdout()).not.toContain("wrong password");
    expect((await fetch(`${server.url}/login`)).status).toBe(200);
  });

  it("reports a passed SMTP check in /metrics", async () => {
    const server = await serve("right horse battery");
    expect(await metricLine(server)).toBe('famos_smtp_check_ok{failed_step="none"} 1');
  });
});
