import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Store } from "../../src/store/database.ts";
import { APPLICATION_FAILED_REASON } from "../../src/web/proxied-websocket.ts";
import type { FormClient } from "../support/client.ts";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";
import { until } from "../support/until.ts";
import { expectStillServing, signedInOnServer } from "./protected-support.ts";

/**
 * The application over HTTPS with a certificate FAMOS trusts but whose names are not the upstream
 * URL's host (a certificate renewed with the wrong names, or someone else answering at that address).
 * Node's error for it lists every name in the certificate, far past the 123 bytes a WebSocket close
 * reason may hold (RFC 6455 §5.5), and @fastify/http-proxy closes the browser's side of a WebSocket with
 * the application side's error message as the reason: ws threw a RangeError in that error handler,
 * outside any request, and `famos serve` ended at the first WebSocket a signed-in user opened.
 */
describe("a real `famos serve` whose application's certificate names another host", () => {
  let dir: string;
  let application: Server;
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  let server: ServerProcess;
  let store: Store;
  let client: FormClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "famos-wrong-names-"));
    const names = Array.from({ length: 5 }, (_, i) => `DNS:application-server-${i + 1}.internal.dealer-network.example`).join(",");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2", "-subj", "/CN=application", "-addext", `subjectAltName=${names}`], { stdio: "ignore" });
    application = createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => application.listen(0, resolve));
    const { port } = application.address() as AddressInfo;
    smtp = await startSmtpServer();
    database = await testDatabase("sqlite", "proxy_wrong_names");
    server = await startServer(
      productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url, FAMOS_UPSTREAM_URL: `https://localhost:${port}`, NODE_EXTRA_CA_CERTS: join(dir, "cert.pem") }),
    );
    ({ client, store } = await signedInOnServer(server, database.url, smtp));
  });
  afterAll(async () => {
    // SIGKILL: the stop is not what this file tests, and a graceful one waits 2 s (src/web/drain.ts).
    await server?.stop("SIGKILL");
    await store?.close();
    application?.closeAllConnections();
    await new Promise((resolve) => application?.close(resolve));
    await smtp?.stop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ends the browser's WebSocket with 1011 and a reason that names nothing of the application's side, logs the error, and keeps serving", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/quotation/live`, { headers: { cookie: client.cookieHeader(), origin: server.url } });
    const [code, reason] = await new Promise<[number, string]>((resolve, reject) => {
      socket.once("close", (closeCode, closeReason) => resolve([closeCode, closeReason.toString("utf8")]));
      socket.once("error", reject);
    });
    expect(code, server.stderr()).toBe(1011);
    // ASVS 7.4.1: the certificate's host names (the dealer network's internal ones) stay in FAMOS's log.
    expect(reason).toBe(APPLICATION_FAILED_REASON);
    const logged = await until("the failure in the log", () => server.logLines().find((line) => line.msg === "a proxied WebSocket failed; the browser's side is closed with 1011"));
    expect(logged.level).toBe(40);
    expect(String(logged.detail)).toMatch(/^Hostname\/IP does not match certificate's altnames.*application-server-5\.internal\.dealer-network\.example/);
    await expectStillServing(server);
  });
});
