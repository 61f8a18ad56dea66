import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./nginx.ts";
import { productionEnv, startServer } from "./server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "./smtp.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";

/**
 * freePort's port was free when it looked: another process may take it in the seconds before `famos
 * serve` listens. startServer then starts it again on another port, rather than failing the test.
 */
describe("startServer on a port taken after freePort found it free", () => {
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "server-start");
  });
  afterAll(async () => {
    await smtp?.stop();
    await database?.drop();
  });

  it("starts famos serve on the next free port", async () => {
    // Another process's listener, on the port the first look hands out.
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const taken = (other.address() as AddressInfo).port;
    const looks: number[] = [];
    const pickPort = async () => {
      const port = looks.length === 0 ? taken : await freePort();
      looks.push(port);
      return port;
    };
    try {
      const server = await startServer(productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url }), "pipe", pickPort);
      try {
        expect(looks).toHaveLength(2);
        expect(server.port).toBe(looks[1]);
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      } finally {
        await server.stop("SIGKILL");
      }
    } finally {
      other.close();
    }
  }, 60_000);
});
