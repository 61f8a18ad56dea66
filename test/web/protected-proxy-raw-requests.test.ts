import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/database.ts";
import type { FormClient } from "../support/client.ts";
import { freePort } from "../support/nginx.ts";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { within } from "../support/until.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";
import { expectStillServing, signedInOnServer } from "./protected-support.ts";

/**
 * A real `famos serve` in reverse-proxy mode, sent requests byte for byte on raw sockets (node:net),
 * as an attacker would, with an application behind it that records each request head it receives.
 */

/** One request written as it is (LF made CRLF unless `bare`), the answer read until FAMOS closes the connection. */
function rawRequest(port: number, text: string, bare = false): Promise<string> {
  const bytes = bare ? text : text.replace(/\r?\n/g, "\r\n");
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
      let answer = "";
      socket.setEncoding("latin1").on("data", (chunk: string) => (answer += chunk));
      socket.on("error", reject);
      socket.on("close", () => resolve(answer));
    }),
    "FAMOS's answer and close",
  );
}

/** The header fields of a request head, names lower-cased, in order. */
function fields(head: string): Array<[string, string]> {
  return head
    .split("\r\n")
    .slice(1)
    .filter((line) => line.includes(":"))
    .map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]);
}

describe("a real `famos serve` in front of the application, sent raw requests", () => {
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  let server: ServerProcess;
  let store: Store;
  let application: Server;
  let client: FormClient;
  /** The request heads the application received since the test began. */
  let received: string[] = [];

  const head = (path: string, extra: string) => `GET ${path} HTTP/1.1\nHost: 127.0.0.1:${server.port}\nCookie: ${client.cookieHeader()}\n${extra}Connection: close\n\n`;

  beforeAll(async () => {
    application = createServer((socket: Socket) => {
      socket.on("error", () => undefined);
      let buffered = "";
      socket.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("latin1");
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        received.push(buffered.slice(0, end));
        buffered = "";
        socket.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
      });
    });
    await new Promise<void>((resolve) => application.listen(0, "127.0.0.1", resolve));
    const { port } = application.address() as { port: number };
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "proxy_raw_requests");
    // FAMOS_PUBLIC_URL names the port FAMOS listens on, so that the test client's forms pass the Origin check.
    const famosPort = await freePort();
    server = await startServer(
      productionEnv({
        FAMOS_DATABASE_URL: database.url,
        FAMOS_SMTP_URL: smtp.url,
        FAMOS_UPSTREAM_URL: `http://127.0.0.1:${port}/app`,
        FAMOS_PORT: String(famosPort),
        FAMOS_PUBLIC_URL: `http://127.0.0.1:${famosPort}`,
      }),
    );
    ({ client, store } = await signedInOnServer(server, database.url, smtp));
  });
  beforeEach(() => {
    received = [];
  });
  afterAll(async () => {
    await server?.stop();
    await store?.close();
    await new Promise((resolve) => application?.close(resolve));
    await smtp?.stop();
    await database?.drop();
  });

  it("sends the application only FAMOS's own account of where a request came from: the client's Forwarded, X-Real-IP, other X-Forwarded-* and URL overrides never reach it, however spelt; X-Forwarded-Host is FAMOS_PUBLIC_URL's host whatever Host the client sent", async () => {
    const forged = [
      "Forwarded: for=203.0.113.9;host=evil.example;proto=https",
      "X-Real-IP: 203.0.113.9",
      "X_Real_IP: 203.0.113.9",
      "X-Forwarded-Host: evil.example",
      "X-Forwarded-Proto: https",
      "X-Forwarded-Port: 443",
      "X-Forwarded-Prefix: /evil",
      "X-Forwarded-Server: evil.example",
      "X_Forwarded_Host: evil.example",
      "X.Forwarded.Proto: https",
      "X-Original-URL: /admin",
      "X-Rewrite-URL: /admin",
      "True-Client-IP: 203.0.113.9",
      "X-Client-IP: 203.0.113.9",
      "Client-IP: 203.0.113.9",
    ];
    const answer = await rawRequest(server.port, head("/quotation/report", `${forged.join("\n")}\n`).replace(/^Host: .*$/m, "Host: evil.example"));
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toHaveLength(1);
    const sent = fields(received[0]!);
    const names = sent.map(([name]) => name);
    for (const line of forged) {
      const name = line.slice(0, line.indexOf(":")).toLowerCase();
      if (!["x-forwarded-host", "x-forwarded-proto"].includes(name)) expect(names, line).not.toContain(name);
    }
    expect(sent.filter(([name]) => name.startsWith("x-forwarded-"))).toEqual([
      ["x-forwarded-for", "127.0.0.1"],
      ["x-forwarded-proto", "http"],
      ["x-forwarded-host", `127.0.0.1:${server.port}`],
    ]);
    expect(sent.find(([name]) => name === "x-famos-login-id")?.[1]).toBe("user1");
    await expectStillServing(server);
  });
});
