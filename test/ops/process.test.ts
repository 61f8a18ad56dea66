import { once } from "node:events";
import { request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/database.ts";
import { MIGRATION_NAMES, pendingMigrations } from "../../src/store/migrate.ts";
import { addUser, TEST_SECRET } from "../support/app.ts";
import { FormClient, nextCode, overHttp } from "../support/client.ts";
import { freePort } from "../support/nginx.ts";
import { depsOn, startServedFamos, stopServedFamos, type ServedFamos } from "../support/served-famos.ts";
import { runFamos, startServer, type ServerProcess } from "../support/server-process.ts";
import type { TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { DIALECTS, testDatabase } from "../store/dialects.ts";

describe("a real `famos serve` process", () => {
  let served: ServedFamos;
  let smtp: TestSmtpServer;
  let server: ServerProcess;
  let store: Store;
  beforeAll(async () => {
    // Debug level: requests are also logged as they arrive (the SIGTERM test waits for one in flight).
    served = await startServedFamos("process", { FAMOS_LOG_LEVEL: "debug" });
    ({ smtp, server, store } = served);
  });
  afterAll(async () => stopServedFamos(served));

  it("logs JSON lines with a request id and no password, code, cookie, token or secret", async () => {
    const user = await addUser(depsOn(served), { password: "Tr0ub4dor&3 horse staple" });
    const client = new FormClient(overHttp(server.url));
    const secrets = new Set<string>([user.password, TEST_SECRET]);
    await client.get("/login");
    secrets.add(client.csrf!);
    const before = smtp.messages.length;
    expect((await client.post("/login", { loginId: user.login_id, password: user.password })).headers.location).toBe("/otp");
    const code = await nextCode(smtp, user.otp_email!, before);
    secrets.add(code);
    for (const value of client.cookies.values()) secrets.add(value);
    await client.get("/otp");
    secrets.add(client.csrf!);
    expect((await client.post("/otp", { code: code === "000000" ? "111111" : "000000" })).statusCode).toBe(401);
    expect((await client.post("/otp", { code })).headers.location).toBe("/");
    for (const value of client.cookies.values()) secrets.add(value); // the signed-in session token
    expect((await client.get("/profile")).statusCode).toBe(200);
    expect((await client.post("/logout")).statusCode).toBe(303);

    // One line per request (issue 17), written when it is answered: what was asked and the answer.
    const requestLines = () => server.logLines().filter((l) => l.msg === "request completed");
    await until("every request's log line", () => requestLines().some((l) => (l.req as { url?: string } | undefined)?.url === "/logout"));
    const output = server.stdout() + server.stderr();
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(5);
      expect(output, "a secret in the log").not.toContain(secret);
      expect(output).not.toContain(encodeURIComponent(secret));
    }
    const lines = server.logLines();
    // At info level a request is one line; "incoming request" is debug (level 20) only.
    const incoming = lines.filter((l) => l.msg === "incoming request");
    expect(incoming.length).toBeGreaterThan(0);
    expect(incoming.every((l) => l.level === 20)).toBe(true);
    const info = lines.filter((l) => (l.level as number) >= 30 && typeof l.reqId === "string");
    expect(info.every((l) => l.msg === "request completed" || l.msg === "mail sent")).toBe(true);
    const posts = requestLines().filter((l) => (l.req as { method: string }).method === "POST");
    expect(posts.map((l) => (l.req as { url: string }).url)).toEqual(["/login", "/otp", "/otp", "/logout"]);
    expect(posts.map((l) => (l.res as { statusCode: number }).statusCode)).toEqual([303, 401, 303, 303]);
    for (const line of posts) {
      expect(line.reqId).toMatch(/^[0-9a-f]{16}$/);
      expect(typeof line.responseTime).toBe("number");
      expect(requestLines().filter((l) => l.reqId === line.reqId)).toHaveLength(1);
      expect(incoming.filter((l) => l.reqId === line.reqId)).toHaveLength(1);
    }
    expect(new Set(posts.map((l) => l.reqId)).size).toBe(4);
    expect(lines.some((l) => l.msg === "mail sent")).toBe(true);
  });

  it("checkpoints SQLite's log on a thread of its own and reports the log's size in /metrics", async () => {
    // The first test's sign-in wrote to the log; the thread looks every second.
    const frames = await until(
      "the checkpoint thread's report",
      async () => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        const value = Number(/^famos_sqlite_wal_frames (\d+)$/m.exec(text)?.[1]);
        return value > 0 ? value : null;
      },
      15_000,
      100,
    );
    expect(frames).toBeGreaterThan(0);
    expect(server.logLines().filter((l) => String(l.msg).includes("checkpoint thread failed"))).toEqual([]);
  });

  it("CWE-150: writes a C1 control from a request (a Host header's byte 0x9B, CSI to a UTF-8 terminal) escaped in its log line, never raw", async () => {
    // Node reads header bytes as Latin-1, so 0x9B is U+009B; JSON escapes C0 but not C1, and an operator's
    // `docker logs` or `tail -f` in a VTE terminal would take "\u009b2J" as "clear the screen".
    const socket = connect(server.port, "127.0.0.1");
    await once(socket, "connect");
    socket.end(Buffer.concat([Buffer.from("GET /healthz HTTP/1.1\r\nHost: famos"), Buffer.from([0x9b]), Buffer.from("2J.test\r\nConnection: close\r\n\r\n")]));
    socket.resume();
    await once(socket, "close");
    const line = await until("the request's log line", () =>
      server.logLines().find((l) => l.msg === "request completed" && String((l.req as { host?: string }).host).includes("\u009b2J")),
    );
    expect((line.res as { statusCode: number }).statusCode).toBe(200);
    expect(server.stdout()).not.toMatch(/[\u007f-\u009f]/);
    expect(server.stdout()).toContain("famos\\u009b2J.test");
  });

  it("on SIGTERM finishes the request in flight and the mail being sent, leaves the outbox consistent, exits 0", async () => {
    const deps = depsOn(served);
    const early = await addUser(deps);
    const late = await addUser(deps);
    // A code mail whose SMTP reply is held: the sender is mid-send when the signal comes.
    smtp.delayData(800);
    const first = new FormClient(overHttp(server.url));
    await first.get("/login");
    await first.post("/login", { loginId: early.login_id, password: early.password });
    await smtp.waitForMessage((m) => m.envelopeTo.includes(early.otp_email!));

    // A request whose body is still arriving when the signal comes.
    const second = new FormClient(overHttp(server.url));
    await second.get("/login");
    const body = new URLSearchParams({ loginId: late.login_id, password: late.password, _csrf: second.csrf! }).toString();
    const loginPosts = () => server.stdout().split("\n").filter((l) => l.includes('"method":"POST","url":"/login"')).length;
    const postsBefore = loginPosts();
    const answer = new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = request(`${server.url}/login`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
          cookie: second.cookieHeader(),
          origin: server.url,
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve({ status: res.statusCode!, location: res.headers.location });
      });
      req.on("error", reject);
      req.write(body.slice(0, 10));
      void until("the request to reach the server", () => loginPosts() > postsBefore).then(async () => {
        server.child.kill("SIGTERM");
        await until("shutdown to begin", () => server.stdout().includes('"msg":"shutting down"'));
        // No new connection is taken while the server drains (a load balancer moves on to another instance).
        await until("the listener to close", () => fetch(`${server.url}/healthz`).then((r) => r.status === 503, () => true));
        req.end(body.slice(10));
      }, reject);
    });
    expect(await answer).toEqual({ status: 303, location: "/otp" });
    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toContain('"msg":"stopped"');

    const rows = await store.db.selectFrom("outbox").select(["recipient", "state"]).execute();
    expect(rows.filter((r) => r.state === "sending")).toEqual([]);
    expect(rows.find((r) => r.recipient === early.otp_email)?.state).toBe("sent");
    // The late sign-in's code was either sent before the sender stopped or is queued for any instance.
    expect(["sent", "queued"]).toContain(rows.find((r) => r.recipient === late.otp_email)?.state);
    smtp.delayData(0);
  });
});

/** Runs the command line's main() here, with `env` as the environment, capturing standard error. */
async function inProcess(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const saved = { ...process.env };
  const write = process.stderr.write;
  let stderr = "";
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    for (const name of Object.keys(process.env)) if (name.startsWith("FAMOS_") || name === "NODE_ENV") delete process.env[name];
    Object.assign(process.env, env);
    const { main } = await import("../../src/cli/main.ts");
    return { code: await main(args), stderr };
  } finally {
    process.stderr.write = write;
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

describe.each(DIALECTS)("`famos migrate` on %s", (dialect) => {
  it("applies the migrations once, then reports the database up to date", async () => {
    const database = await testDatabase(dialect, `cli_migrate_${dialect}`);
    try {
      const env = { FAMOS_DATABASE_URL: database.url, FAMOS_SECRET: TEST_SECRET };
      const first = runFamos(["migrate"], env);
      expect(await first.exited, first.stderr()).toEqual({ code: 0, signal: null });
      expect(first.stderr()).toBe(`Applied: ${MIGRATION_NAMES.join(", ")}\n`);
      // The second run in this process (a process start costs seconds on a busy machine).
      const second = await inProcess(["migrate"], env);
      expect(second).toEqual({ code: 0, stderr: "The database is up to date.\n" });
      const store = openStore(database.url);
      expect(await pendingMigrations(store)).toEqual([]);
      await store.close();
    } finally {
      await database.drop();
    }
  });
});

describe("`famos serve` on a database in its own memory (sqlite::memory:)", () => {
  it("migrates it on its own connection and serves the sign-in page", async () => {
    // PostgreSQL is migrated on a connection of its own (FAMOS_DATABASE_TIMEOUT bounds the server's);
    // a database in the process's memory exists on the server's connection alone.
    // Development mode (no SMTP server needed): the demo user is written at start, into that database.
    const server = await startServer({ FAMOS_SECRET: TEST_SECRET, FAMOS_HOST: "127.0.0.1", FAMOS_DATABASE_URL: "sqlite::memory:" });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${server.url}/login`)).status).toBe(200);
    } finally {
      await server.stop("SIGKILL");
    }
  });
});

describe("`famos migrate` with no database", () => {
  it("exits 1 and says why", async () => {
    const run = await inProcess(["migrate"], { FAMOS_DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^famos: .*ECONNREFUSED/);
  });
});
