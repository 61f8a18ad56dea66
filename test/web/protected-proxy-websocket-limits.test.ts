import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, type WebSocketServer } from "ws";
import { APPLICATION_FAILED_REASON } from "../../src/web/proxied-websocket.ts";
import { WEBSOCKETS_PER_SESSION } from "../../src/web/websocket-sessions.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { until, within } from "../support/until.ts";
import { answeredLiveChannel, startExampleApp } from "./protected-support.ts";

interface Closed {
  code: number;
  reason: string;
}

/** A browser's WebSocket through FAMOS: opened (FAMOS took it) or refused (FAMOS answered the upgrade with a status). */
type Handshake = { opened: WebSocket; closed: Promise<Closed> } | { refused: number; retryAfter: string | undefined };

function handshake(port: number, client: FormClient, path: string): Promise<Handshake> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { cookie: client.cookieHeader(), origin: `http://127.0.0.1:${port}` } });
  const closed = new Promise<Closed>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
  return within(
    new Promise<Handshake>((resolve, reject) => {
      socket.once("open", () => resolve({ opened: socket, closed }));
      socket.once("unexpected-response", (_request, response) => {
        resolve({ refused: response.statusCode ?? 0, retryAfter: response.headers["retry-after"] });
        response.resume();
        socket.terminate();
      });
      socket.once("error", reject);
    }),
    `handshake to ${path}`,
  );
}

function opened(result: Handshake): { socket: WebSocket; closed: Promise<Closed> } {
  if (!("opened" in result)) throw new Error(`refused with ${result.refused}`);
  return { socket: result.opened, closed: result.closed };
}

async function signedIn(t: TestApp, user?: Awaited<ReturnType<typeof addUser>>) {
  const account = user ?? (await addUser(t.deps));
  const client = new FormClient(t.app);
  await signInFully(client, t.smtp, account);
  return { user: account, client };
}

async function refusedCount(t: TestApp): Promise<number> {
  const { values } = await t.deps.metrics.webSocketsRefused.get();
  return values.reduce((sum, value) => sum + value.value, 0);
}

describe(`proxied WebSockets per session: at most ${WEBSOCKETS_PER_SESSION}, open or in their handshake`, () => {
  let t: TestApp;
  let port: number;
  let upstream: Awaited<ReturnType<typeof startExampleApp>>;
  let live: WebSocketServer;
  /** Every handshake the application saw, by the `tag` in its query. */
  const seen: string[] = [];
  /** Handshakes whose query says `hold`: answered only when the test says, with true (accept) or a refusal's status. */
  const held: ((answer: true | number) => void)[] = [];
  let tags = 0;

  beforeAll(async () => {
    upstream = await startExampleApp();
    live = answeredLiveChannel(upstream.server, (query, answer) => {
      seen.push(query.get("tag") ?? "");
      if (query.has("hold")) held.push(answer);
      else answer(true);
    });
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: upstream.url } });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of live?.clients ?? []) socket.terminate();
    live?.close();
    await t?.close();
    await upstream?.stop();
  });

  const open = (client: FormClient, hold = false) => handshake(port, client, `/quotation/live?tag=c${(tags += 1)}${hold ? "&hold" : ""}`);
  const lastTag = () => `c${tags}`;

  it("refuses the one past the cap with 429 and Retry-After before the application sees it; a closed one frees its place; other sessions are not affected", async () => {
    const { user, client } = await signedIn(t);
    const before = await refusedCount(t);
    const sockets = [];
    for (let i = 0; i < WEBSOCKETS_PER_SESSION; i += 1) sockets.push(opened(await open(client)));
    await until("every one connected at the application", () => t.app.proxiedWebSockets.size >= WEBSOCKETS_PER_SESSION);

    const past = await open(client);
    expect(past).toEqual({ refused: 429, retryAfter: expect.stringMatching(/^[1-9][0-9]*$/) });
    expect(seen).not.toContain(lastTag());
    expect(await refusedCount(t)).toBe(before + 1);

    // Another session of the same user, and another user, open theirs as before.
    const sameUser = await signedIn(t, user);
    const other = await signedIn(t);
    const mine = opened(await open(sameUser.client));
    const theirs = opened(await open(other.client));

    await until("both connected at the application", () => t.app.proxiedWebSockets.size === WEBSOCKETS_PER_SESSION + 2);

    // One closed by its page: the next one passes.
    sockets.pop()!.socket.close();
    await until("the closed one forgotten", () => t.app.proxiedWebSockets.size === WEBSOCKETS_PER_SESSION + 1);
    sockets.push(opened(await open(client)));
    expect((await open(client)) as object).toMatchObject({ refused: 429 });

    for (const { socket } of [...sockets, mine, theirs]) socket.close();
    await until("all closed", () => t.app.proxiedWebSockets.size === 0);
  });

  it("counts handshakes the application has not answered yet, and frees them when it refuses, when the browser leaves, and when it accepts", async () => {
    const { client } = await signedIn(t);
    held.length = 0;
    const waiting = [];
    for (let i = 0; i < WEBSOCKETS_PER_SESSION; i += 1) waiting.push(opened(await open(client, true)));
    await until("every handshake at the application", () => held.length === WEBSOCKETS_PER_SESSION);
    expect(t.app.proxiedWebSockets.size).toBe(0);

    // A burst while the application is slow to answer does not pass the cap.
    expect((await open(client)) as object).toMatchObject({ refused: 429 });
    expect(seen).not.toContain(lastTag());

    // The application refuses one: its browser's side is closed (1011) and its place is free.
    held.shift()!(503);
    expect((await within(waiting.shift()!.closed, "the refused one's browser side")).code).toBe(1011);
    opened(await until("a place freed by the refusal", async () => {
      const result = await open(client, true);
      return "opened" in result ? result : null;
    }));
    await until("its handshake at the application", () => held.length === WEBSOCKETS_PER_SESSION);
    expect((await open(client)) as object).toMatchObject({ refused: 429 });

    // A browser that leaves during the handshake frees its place too.
    waiting.shift()!.socket.terminate();
    const another = await until("a place freed by the leaving browser", async () => {
      const result = await open(client);
      return "opened" in result ? result : null;
    });
    opened(another).socket.close();

    // Accepted: each moves from the handshake to the open ones, and the count stays the cap's.
    for (const answer of held.splice(0)) answer(true);
    // The one whose browser had left is closed on the application's side when it accepts, and not counted.
    await until("every held one open", () => t.app.proxiedWebSockets.size === WEBSOCKETS_PER_SESSION - 1 && t.app.proxiedWebSockets.handshaking === 0);
    await until("the application's side of the one whose browser left closed", () => live.clients.size === WEBSOCKETS_PER_SESSION - 1);
    opened(await open(client));
    expect((await open(client)) as object).toMatchObject({ refused: 429 });

    // Sign-out closes them all: nothing is left counted for the session.
    expect((await client.post("/logout")).statusCode).toBe(303);
    await until("all closed", () => t.app.proxiedWebSockets.size === 0 && t.app.proxiedWebSockets.handshaking === 0);
  });
});

describe("the application's WebSocket handshake is bounded by FAMOS_REQUEST_TIMEOUT", () => {
  const TIMEOUT_MS = 1000;
  let t: TestApp;
  let port: number;
  let silent: Server;
  /** The connections FAMOS opened to the silent application, each resolving when FAMOS closes it. */
  const connections: Promise<void>[] = [];

  beforeAll(async () => {
    // Accepts every connection and never answers a byte.
    silent = createServer((socket: Socket) => {
      connections.push(new Promise((resolve) => socket.once("close", () => resolve())));
      socket.on("error", () => undefined);
      // Read (and drop) the handshake, so that FAMOS's close is seen.
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const upstreamPort = (silent.address() as AddressInfo).port;
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`, FAMOS_REQUEST_TIMEOUT: `${TIMEOUT_MS}ms` } });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => silent?.close(resolve));
  });

  it("closes the browser's side with 1011 once the application has not answered within it, frees its place, and keeps serving", async () => {
    const { client } = await signedIn(t);
    const started = Date.now();
    const { closed } = opened(await handshake(port, client, "/quotation/live"));
    const result = await within(closed, "the browser's side closed", TIMEOUT_MS + 5000);
    expect(result).toEqual({ code: 1011, reason: APPLICATION_FAILED_REASON });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    await within(connections[0]!, "FAMOS's connection to the application closed", 5000);
    await until("nothing counted for the session", () => t.app.proxiedWebSockets.handshaking === 0);
    expect((await client.get("/profile")).statusCode).toBe(200);
  });
});
