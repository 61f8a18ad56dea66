import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/nginx.ts";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";
import { addUser, TEST_SECRET } from "../support/app.ts";
import { FormClient, overHttp } from "../support/client.ts";
import { until } from "../support/until.ts";
import { loadConfig } from "../../src/config/config.ts";
import { createServices } from "../../src/app/services.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import pino from "pino";

const SENT_MB = 256;

/** The process's resident memory in MiB, as the kernel counts it. */
function residentMb(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!line) throw new Error(`no VmRSS for ${pid}`);
  return Number(line[1]) / 1024;
}

/** A plain SMTP client: each command's answer, read whole. */
function smtpSession(port: number) {
  const socket: Socket = connect(port, "127.0.0.1");
  let buffer = "";
  socket.setEncoding("utf8").on("data", (text: string) => (buffer += text));
  const answer = async (): Promise<string> => {
    const found = await until("an SMTP answer", () => /^\d{3} [^\r\n]*\r\n/m.exec(buffer));
    const text = buffer.slice(0, found.index + found[0].length);
    buffer = buffer.slice(found.index + found[0].length);
    return text;
  };
  const command = async (line: string): Promise<string> => (socket.write(`${line}\r\n`), answer());
  const write = (data: Buffer) => new Promise<void>((resolve) => (socket.write(data) ? resolve() : socket.once("drain", () => resolve())));
  return { socket, answer, command, write };
}

/**
 * The bounce listener (FAMOS_BOUNCE_SMTP_PORT) has no authentication: it takes mail for any
 * bounce+<id> address of a message FAMOS sent, and every user reads such an address in the Return-Path
 * of her own code mail. smtp-server goes on passing a message's data on past its `size` limit, and
 * the listener kept every chunk until the end: 256 MiB sent to it over one connection (found against a
 * real `famos serve`: 400 MiB, its memory grew by 420 MiB), and 50 connections at once, ended the
 * process for every sign-in. What it keeps of a message is now bounded by MAX_DSN_BYTES.
 */
describe("the bounce listener keeps at most a report's worth of a message", () => {
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  let server: ServerProcess;
  let store: Store;
  let bouncePort: number;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "bounce_memory");
    bouncePort = await freePort();
    server = await startServer(
      productionEnv({
        FAMOS_DATABASE_URL: database.url,
        FAMOS_SMTP_URL: smtp.url,
        FAMOS_BOUNCE_DOMAIN: "bounces.famos.test",
        FAMOS_BOUNCE_SMTP_PORT: String(bouncePort),
        FAMOS_BOUNCE_SMTP_HOST: "127.0.0.1",
      }),
    );
    store = openStore(database.url);
  });
  afterAll(async () => {
    await server?.stop();
    await store?.close();
    await smtp?.stop();
    await database?.drop();
  });

  it(`ASVS 12.1.1 / SPEC "no request can crash the process": ${SENT_MB} MiB sent to the bounce address of the user's own code mail do not stay in FAMOS's memory, and the message is refused`, async () => {
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: database.url });
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const deps = createServices(loaded.config, { store, logger: pino({ level: "silent" }), startSender: false }).deps;
    const user = await addUser(deps, { email: "reader@dealer.example" });
    const client = new FormClient(overHttp(server.url));
    await client.get("/login");
    expect((await client.post("/login", { loginId: user.login_id, password: user.password })).headers.location).toBe("/otp");
    const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes("reader@dealer.example"), 10_000);

    const session = smtpSession(bouncePort);
    expect(await session.answer()).toMatch(/^220/);
    expect(await session.command("EHLO attacker.example")).toMatch(/^250/m);
    expect(await session.command("MAIL FROM:<>")).toMatch(/^250/);
    expect(await session.command(`RCPT TO:<${mail.envelopeFrom}>`)).toMatch(/^250/);
    expect(await session.command("DATA")).toMatch(/^354/);
    const before = residentMb(server.child.pid!);
    const megabyte = Buffer.from(`${"X".repeat(1022)}\r\n`.repeat(1024));
    for (let i = 0; i < SENT_MB; i += 1) await session.write(megabyte);
    // Read before the data's end, while a listener that keeps the message holds all of it (all but
    // what the kernel's socket buffers hold, a few MiB).
    await until("the data handed to the kernel", () => session.socket.writableLength === 0);
    const grown = residentMb(server.child.pid!) - before;
    expect(await session.command(".")).toMatch(/^552/);
    session.socket.destroy();
    expect(grown, `resident memory grew by ${grown.toFixed(0)} MiB`).toBeLessThan(SENT_MB / 2);
    expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
  });
});
