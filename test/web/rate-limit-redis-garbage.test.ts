import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FormClient, overHttp } from "../support/client.ts";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";

/**
 * A peer on FAMOS_REDIS_URL that speaks the Redis protocol but answers a count with nothing (a nil
 * reply): a proxy in front of Redis that lost the script, a server that is not Redis at all. The
 * request limits' store of @fastify/rate-limit read the answer as an array in ioredis's callback,
 * where a TypeError is thrown again outside any request (ioredis's callbacks rethrow on a timer), and
 * `famos serve` ended at the first counted request. Commands it does not know are answered +OK.
 */
function nilCountingRedis(): Server {
  return createServer((socket: Socket) => {
    socket.on("error", () => undefined);
    let pending = "";
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      // One RESP array of bulk strings per command: *<n>\r\n then $<len>\r\n<word>\r\n n times.
      for (;;) {
        const command = readCommand(pending);
        if (command === null) return;
        pending = pending.slice(command.length);
        const name = command.words[0]?.toUpperCase();
        if (name === "INFO") socket.write(bulk("# Server\r\nloading:0\r\n"));
        else if (name === "EVALSHA" || name === "EVAL") socket.write("$-1\r\n");
        else socket.write("+OK\r\n");
      }
    });
  });
}

function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

function readCommand(text: string): { words: string[]; length: number } | null {
  const head = /^\*(\d+)\r\n/.exec(text);
  if (!head) return null;
  let at = head[0].length;
  const words: string[] = [];
  for (let i = 0; i < Number(head[1]); i += 1) {
    const size = /^\$(\d+)\r\n/.exec(text.slice(at));
    if (!size) return null;
    at += size[0].length;
    if (text.length < at + Number(size[1]) + 2) return null;
    words.push(text.slice(at, at + Number(size[1])));
    at += Number(size[1]) + 2;
  }
  return { words, length: at };
}

describe("a real `famos serve` whose Redis answers a count with nothing", () => {
  let redis: Server;
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    redis = nilCountingRedis();
    await new Promise<void>((resolve) => redis.listen(0, "127.0.0.1", resolve));
    const { port } = redis.address() as { port: number };
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "redis_garbage");
    server = await startServer(productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url, FAMOS_REDIS_URL: `redis://127.0.0.1:${port}`, FAMOS_RATE_LIMIT: "300" }));
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => redis?.close(resolve));
    await smtp?.stop();
    await database?.drop();
  });

  it("counts the sign-in on the instance, answers it, says once that Redis did not answer, and keeps serving", async () => {
    const client = new FormClient(overHttp(server.url));
    await client.get("/login");
    for (let i = 0; i < 2; i += 1) {
      const answer = await client.post("/login", { loginId: "nobody", password: "wrong password" });
      expect(answer.statusCode).toBe(401);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.stderr()).toBe("");
    const outage = server.logLines().filter((line) => String(line.msg).startsWith("Redis did not answer"));
    expect(outage).toHaveLength(1);
  });
});
