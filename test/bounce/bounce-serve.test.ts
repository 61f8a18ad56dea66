import { connect, createServer, type AddressInfo } from "node:net";
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

  it("mails the code with a VERP return path and shows OTP capture the bounce its listener took", async () => {
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: database.url });
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const deps = createServices(loaded.config, { store, logger: pino({ level: "silent" }), startSender: false }).deps;
    const user = await addUser(deps, { email: "gone@dealer.example" });
    const client = new FormClient(overHttp(server.url));
    await client.get("/login");
    expect((await client.post("/login", { loginId: user.login_id, password: user.password })).headers.location).toBe("/otp");
    const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes("gone@dealer.example"), 10_000);
    expect(mail.envelopeFrom).toMatch(/^bounce\+[A-Za-z0-9_-]+@bounces\.famos\.test$/);

    await until("the bounce listener", () => portOpen(bouncePort), 30_000);
    await sendFromNullSender(bouncePort, mail.envelopeFrom, dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 The email account that you tried to reach does not exist" }));
    const otp = await client.get("/otp");
    expect(otp.body).toContain("could not be delivered");
    expect(otp.body).toContain("Entered a wrong email?");
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });
});

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
