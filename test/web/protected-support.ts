import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import type { LightMyRequestResponse } from "fastify";
import pino from "pino";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { WebSocketServer } from "ws";
import { createProtectedApp } from "../../examples/protected-app/app.ts";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { addUser, TEST_SECRET, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn, signInFully } from "../support/client.ts";
import { freePort } from "../support/nginx.ts";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { testDatabase } from "../store/dialects.ts";

/** A test's own page on the application: true when it answered the request, false to leave it to the example. */
export type ExtraRoute = (request: IncomingMessage, response: ServerResponse) => boolean;

/** The example application listening on a free loopback port, with a test's own pages in front of it. */
export async function startExampleApp(extra?: ExtraRoute): Promise<{ server: Server; url: string; port: number; stop(): Promise<void> }> {
  const example = createProtectedApp();
  const server = extra ? createServer((request, response) => void (extra(request, response) || example.emit("request", request, response))) : example;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The application's live channel (`/quotation/live`) on its server, whose handshakes a test answers:
 * `verify` gets each one's query and answers it, at once or later, with true (accepted) or the status
 * of a refusal.
 */
export function answeredLiveChannel(server: Server, verify: (query: URLSearchParams, answer: (accepted: true | number) => void) => void): WebSocketServer {
  return new WebSocketServer({
    server,
    path: "/quotation/live",
    verifyClient: (info: { req: { url?: string } }, accept: (ok: boolean, status?: number) => void) =>
      verify(new URL(info.req.url ?? "/", "http://app").searchParams, (answer) => (answer === true ? accept(true) : accept(false, answer))),
  });
}

/** Ends what a test of a proxied live channel started: the application's sockets, FAMOS, then the application. */
export async function stopWithLiveChannel(parts: { live?: WebSocketServer; t?: TestApp; upstream?: { stop(): Promise<void> } }): Promise<void> {
  for (const socket of parts.live?.clients ?? []) socket.terminate();
  parts.live?.close();
  await parts.t?.close();
  await parts.upstream?.stop();
}

/**
 * The application keeping its own session in a cookie, as many legacy applications do:
 * `/customer/remember?state=X` answers with `Set-Cookie: app_session=X; Path=/; HttpOnly`.
 */
export const rememberState: ExtraRoute = (request, response) => {
  const url = new URL(request.url ?? "/", "http://app.invalid");
  if (url.pathname !== "/customer/remember") return false;
  response.writeHead(200, { "content-type": "text/plain; charset=utf-8", "set-cookie": `app_session=${url.searchParams.get("state")}; Path=/; HttpOnly` });
  response.end("remembered");
  return true;
};

/** A port nobody listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Signs in from a sign-in page address (e.g. "/login?returnTo=%2Fquotation") as a browser would:
 * the page's hidden returnTo goes with the password, then the mailed code. Returns the code step's
 * answer (303 to where the user goes next).
 */
export async function signInFrom(
  t: TestApp,
  client: FormClient,
  loginPath: string,
  user: { login_id: string; password: string; otp_email: string | null },
): Promise<LightMyRequestResponse> {
  return (await signIn(t, { user, client, from: loginPath, page: null })).answer;
}

/** In a browser on the example application's Quotation page: its own form, sent and echoed back. */
export async function saveQuotationInBrowser(page: Page, quote: { customer: string; vehicle: string; amount: string }): Promise<void> {
  await page.getByLabel("Customer name").fill(quote.customer);
  await page.getByLabel("Vehicle").fill(quote.vehicle);
  await page.getByLabel("Amount to finance (£)").fill(quote.amount);
  await page.getByRole("button", { name: "Save quotation" }).click();
  await expect.poll(() => page.getByRole("status").textContent()).toBe(`Quotation for ${quote.customer}: ${quote.vehicle}, £${quote.amount} over 48 months.`);
}

/**
 * A user added to a real `famos serve`'s database (reached directly) and signed in on it over HTTP,
 * code and all. Returns the client and the store to close after the server.
 */
export async function signedInOnServer(server: ServerProcess, databaseUrl: string, smtp: TestSmtpServer): Promise<{ client: FormClient; store: Store; loginId: string }> {
  const store = openStore(databaseUrl);
  const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: databaseUrl });
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  const deps = createServices(loaded.config, { store, logger: pino({ level: "silent" }), startSender: false }).deps;
  const client = new FormClient(overHttp(server.url));
  const user = await addUser(deps);
  await signInFully(client, smtp, user);
  return { client, store, loginId: user.login_id };
}

/** A real `famos serve` still answers, and wrote nothing to standard error (where an uncaught exception goes). */
export async function expectStillServing(server: ServerProcess): Promise<void> {
  const health = await fetch(`${server.url}/healthz`).then(
    (response) => response.status,
    (error: unknown) => String(error),
  );
  expect(health, server.stderr()).toBe(200);
  expect(server.stderr()).toBe("");
}

/** A real `famos serve` in reverse-proxy mode in front of a raw-socket application, a user signed in on it. */
export interface BehindRawApplication {
  server: ServerProcess;
  client: FormClient;
  /** The signed-in user's login ID (test users are numbered across the files a worker runs). */
  loginId: string;
  /** Stops FAMOS, the application, the SMTP server, and drops the database. */
  stop(): Promise<void>;
}

/**
 * `famos serve` on SQLite (`prefix` names the file's directory) with FAMOS_UPSTREAM_URL at
 * `http://127.0.0.1:<port>/app`, where each connection is handed to `answer` (written byte for byte
 * there), and a user signed in over HTTP. `env` adds settings (given the port FAMOS will listen on).
 */
export async function signedInBehindRawApplication(prefix: string, answer: (socket: Socket) => void, env: (famosPort: number) => Record<string, string> = () => ({})): Promise<BehindRawApplication> {
  const application = createNetServer((socket: Socket) => {
    socket.on("error", () => undefined);
    answer(socket);
  });
  await new Promise<void>((resolve) => application.listen(0, "127.0.0.1", resolve));
  const { port } = application.address() as AddressInfo;
  const smtp = await startSmtpServer();
  const database = await testDatabase("sqlite", prefix);
  const famosPort = await freePort();
  const server = await startServer(
    productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url, FAMOS_UPSTREAM_URL: `http://127.0.0.1:${port}/app`, FAMOS_PORT: String(famosPort), ...env(famosPort) }),
  );
  const { client, store, loginId } = await signedInOnServer(server, database.url, smtp);
  return {
    server,
    client,
    loginId,
    async stop() {
      // SIGKILL: no test of these is about the stop, and a graceful one waits 2 s (src/web/drain.ts).
      await server.stop("SIGKILL");
      await store.close();
      await new Promise((resolve) => application.close(resolve));
      await smtp.stop();
      await database.drop();
    },
  };
}
