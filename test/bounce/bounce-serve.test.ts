import { readFileSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { addUser, TEST_SECRET } from "../support/app.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import { FormClient, overHttp } from "../support/client.ts";
import { freePort } from "../support/nginx.ts";
import { productionEnv, runFamos, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";

const SENT_MB = 256;

/** Issue 15 as an operator sets it up: `famos serve` with FAMOS_BOUNCE_DOMAIN and FAMOS_BOUNCE_SMTP_PORT. */
describe("a real `famos serve` taking bounces on FAMOS_BOUNCE_SMTP_PORT", () => {
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  let server: ServerProcess;
  let store: Store;
  let bouncePort: number;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "bounce_serve");
    bouncePort = await freePort();
    server = await startServer(
      productionEnv({
        FAMOS_DATABASE_URL: database.url,
        FAMOS_SMTP_URL: smtp.url,
        FAMOS_BOUNCE_DOMAIN: "bounces.famos.test",
        FAMOS_BOUNCE_SMTP_PORT: String(bouncePort),
        FAMOS_BOUNCE_SMTP_HOST: "127.0.0.1",
        // The drain's quiet interval at its least: the stop's exit 0 is checked, not how long it waits
        // for a balancer (2 s by default).
        FAMOS_DRAIN_QUIET: "100ms",
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

  /** A user at OTP capture on the real server, and her code mail as the receiving server got it. */
  async function codeMailFor(email: string) {
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: database.url });
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const deps = createServices(loaded.config, { store, logger: pino({ level: "silent" }), startSender: false }).deps;
    const user = await addUser(deps, { email });
    const client = new FormClient(overHttp(server.url));
    await client.get("/login");
    expect((await client.post("/login", { loginId: user.login_id, password: user.password })).headers.location).toBe("/otp");
    return { client, mail: await smtp.waitForMessage((m) => m.envelopeTo.includes(email), 10_000) };
  }

  /**
   * The bounce listener (FAMOS_BOUNCE_SMTP_PORT) has no authentication: it takes mail for any
   * bounce+<id> address of a message FAMOS sent, and every user reads such an address in the Return-Path
   * of her own code mail. smtp-server goes on passing a message's data on past its `size` limit, and
   * the listener kept every chunk until the end: 256 MiB sent to it over one connection (found against a
   * real `famos serve`: 400 MiB, its memory grew by 420 MiB), and 50 connections at once, ended the
   * process for every sign-in. What it keeps of a message is now bounded by MAX_DSN_BYTES.
   */
  it(`ASVS 12.1.1 / SPEC "no request can crash the process": ${SENT_MB} MiB sent to the bounce address of the user's own code mail do not stay in FAMOS's memory, and the message is refused`, async () => {
    const { mail } = await codeMailFor("reader@dealer.example");
    await until("the bounce listener", () => portOpen(bouncePort), 30_000);

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

  it("mails the code with a VERP return path and shows OTP capture the bounce its listener took", async () => {
    const { client, mail } = await codeMailFor("gone@dealer.example");
    expect(mail.envelopeFrom).toMatch(/^bounce\+[A-Za-z0-9_-]+@bounces\.famos\.test$/);

    await until("the bounce listener", () => portOpen(bouncePort), 30_000);
    await sendFromNullSender(bouncePort, mail.envelopeFrom, dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 The email account that you tried to reach does not exist" }));
    const otp = await client.get("/otp");
    expect(otp.body).toContain("could not be delivered");
    expect(otp.body).toContain("Entered a wrong email?");
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });
});

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

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

describe("`famos serve` whose bounce port is taken", () => {
  it("stops with a message naming the setting, before its web port answers", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const taken = (holder.address() as AddressInfo).port;
    const database = await testDatabase("sqlite", "bounce_port_taken");
    const webPort = await freePort();
    try {
      const run = runFamos(
        ["serve"],
        productionEnv({
          FAMOS_DATABASE_URL: database.url,
          FAMOS_PORT: String(webPort),
          FAMOS_SMTP_URL: "smtp://127.0.0.1:9",
          FAMOS_BOUNCE_DOMAIN: "bounces.famos.test",
          FAMOS_BOUNCE_SMTP_PORT: String(taken),
          FAMOS_BOUNCE_SMTP_HOST: "127.0.0.1",
        }),
      );
      expect(await run.exited).toEqual({ code: 1, signal: null });
      expect(run.stderr()).toContain(`famos: FAMOS_BOUNCE_SMTP_PORT: cannot take 127.0.0.1:${taken} for bounces (EADDRINUSE)`);
      expect(run.stderr()).not.toContain("    at ");
      expect(run.stdout()).not.toContain("Server listening");
      expect(await portOpen(webPort)).toBe(false);
    } finally {
      holder.close();
      await database.drop();
    }
  });
});
