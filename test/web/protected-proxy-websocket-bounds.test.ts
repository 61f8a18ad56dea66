import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, type WebSocketServer } from "ws";
import { WEBSOCKET_HIGH_WATER_BYTES, WEBSOCKET_READ_BYTES } from "../../src/web/websocket-bounds.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { until, within } from "../support/until.ts";
import { answeredLiveChannel, startExampleApp } from "./protected-support.ts";

/** FAMOS_WEBSOCKET_MAX_MESSAGE in these tests: small, so a message over it is cheap to send. */
const MAX_MESSAGE = 64 * 1024;
/**
 * The most FAMOS may hold toward one side of one WebSocket: it stops reading from the sender once it
 * holds more than the high-water mark, so one message (and its frame header) past it, plus what the
 * connection had already read when it stopped: ws parses the rest of its last read (Node reads up to
 * 64 KiB at a time), which can complete more messages. CI once saw two 60 KiB messages past the mark.
 */
const MOST_HELD = WEBSOCKET_HIGH_WATER_BYTES + MAX_MESSAGE + 14 + WEBSOCKET_READ_BYTES;
/** The flood a fast sender pushes at a slow reader: 30 MiB in messages just under the bound. */
const FLOOD_MESSAGES = 512;
const FLOOD_MESSAGE_BYTES = 60 * 1024;

interface Closed {
  code: number;
  reason: string;
}

/** One end of a WebSocket as a test drives it: every message it received, in order, and how it closed. */
interface End {
  socket: WebSocket;
  received: Buffer[];
  closed: Promise<Closed>;
}

function end(socket: WebSocket): End {
  const received: Buffer[] = [];
  socket.on("message", (data) => received.push(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)));
  const closed = new Promise<Closed>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
  return { socket, received, closed };
}

/** Message `i` of a flood: its number in the first 4 bytes, the rest filled with its low byte. */
function floodMessage(i: number): Buffer {
  const message = Buffer.alloc(FLOOD_MESSAGE_BYTES, i & 0xff);
  message.writeUInt32BE(i, 0);
  return message;
}

/** Waits until `measure` gives the same value (not -1) ten times running, 20 ms apart: the bytes have gone where they can. */
async function untilStill(what: string, measure: () => number): Promise<void> {
  let last = -1;
  let still = 0;
  await until(
    `${what} to stop moving`,
    () => {
      const now = measure();
      still = now === last && now !== -1 ? still + 1 : 0;
      last = now;
      return still >= 10;
    },
    20_000,
    20,
  );
}

/** The socket FAMOS reads from and writes to (ws keeps it as `_socket`), to stall a reader as a slow peer would. */
function rawSocket(socket: WebSocket): { pause(): void; resume(): void } {
  return (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
}

describe("a proxied WebSocket's resource bounds (FAMOS_WEBSOCKET_MAX_MESSAGE, backpressure)", () => {
  let t: TestApp;
  let port: number;
  let upstream: Awaited<ReturnType<typeof startExampleApp>>;
  let live: WebSocketServer;
  let client: FormClient;
  const applicationEnds = new Map<string, (end: End) => void>();
  const held: (() => void)[] = [];
  let tags = 0;

  beforeAll(async () => {
    upstream = await startExampleApp();
    // A handshake whose query says `hold` is answered only once the test lets it (acceptHeld).
    live = answeredLiveChannel(upstream.server, (query, answer) => (query.has("hold") ? held.push(() => answer(true)) : answer(true)));
    live.on("connection", (socket, request) => {
      const tag = new URL(request.url ?? "/", "http://app").searchParams.get("tag") ?? "";
      applicationEnds.get(tag)?.(end(socket));
    });
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: upstream.url, FAMOS_WEBSOCKET_MAX_MESSAGE: "64KiB" } });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    port = (t.app.server.address() as AddressInfo).port;
    const user = await addUser(t.deps);
    client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
  });
  afterAll(async () => {
    for (const socket of live?.clients ?? []) socket.terminate();
    live?.close();
    await t?.close();
    await upstream?.stop();
  });

  /** A WebSocket opened through FAMOS as the signed-in user's browser would, with the application's end of it. */
  async function openChannel(): Promise<{ browser: End; application: End }> {
    const { browser, application } = await openBrowserSide("");
    return { browser, application: await within(application, "the application's side") };
  }

  /** The browser's side open (FAMOS accepted it); the application's comes when it accepts FAMOS's handshake. */
  async function openBrowserSide(query: string): Promise<{ browser: End; application: Promise<End> }> {
    const tag = `c${(tags += 1)}`;
    const application = new Promise<End>((resolve) => applicationEnds.set(tag, resolve));
    const socket = new WebSocket(`ws://127.0.0.1:${port}/quotation/live?tag=${tag}${query}`, { headers: { cookie: client.cookieHeader(), origin: `http://127.0.0.1:${port}` } });
    const browser = end(socket);
    await within(new Promise((resolve, reject) => (socket.once("open", resolve), socket.once("error", reject))), "handshake");
    return { browser, application };
  }

  /** Another WebSocket carries messages both ways, and FAMOS's pages and the application's still answer. */
  async function expectStillServing(): Promise<void> {
    const { browser, application } = await openChannel();
    browser.socket.send("ping from the browser");
    application.socket.send("pong from the application");
    await until("a message each way", () => browser.received.length === 1 && application.received.length === 1);
    expect(String(application.received[0])).toBe("ping from the browser");
    expect(String(browser.received[0])).toBe("pong from the application");
    browser.socket.close();
    expect((await client.get("/profile")).statusCode).toBe(200);
    expect((await client.get("/quotation")).statusCode).toBe(200);
  }

  it("passes a text message as text and a binary one as binary, both ways (a page's script gets a string or a Blob by it)", async () => {
    const { browser, application } = await openChannel();
    const kinds = (socket: WebSocket) => {
      const binary: boolean[] = [];
      socket.on("message", (_data, isBinary) => binary.push(isBinary));
      return binary;
    };
    const atApplication = kinds(application.socket);
    const atBrowser = kinds(browser.socket);
    browser.socket.send("text from the browser");
    browser.socket.send(Buffer.from([1, 2, 3]));
    application.socket.send("text from the application");
    application.socket.send(Buffer.from([4, 5, 6]));
    await until("two messages each way", () => atApplication.length === 2 && atBrowser.length === 2);
    expect(atApplication).toEqual([false, true]);
    expect(atBrowser).toEqual([false, true]);
    browser.socket.close();
  });

  it.each([
    { from: "browser", to: "application" },
    { from: "application", to: "browser" },
  ] as const)(
    "a message from the $from over the bound closes the WebSocket with 1009 on both sides and never reaches the $to; one of the bound passes whole",
    async ({ from, to }) => {
      const channel = await openChannel();
      const whole = Buffer.alloc(MAX_MESSAGE, 7);
      channel[from].socket.send(whole);
      await until(`the message of the bound at the ${to}`, () => channel[to].received.length === 1);
      expect(channel[to].received[0]!.equals(whole)).toBe(true);

      channel[from].socket.send(Buffer.alloc(MAX_MESSAGE + 1, 8));
      // ws closes the sender with 1009 "Message Too Big" (RFC 6455 §7.4.1); FAMOS the other side.
      expect((await within(channel[from].closed, `the ${from}'s side`)).code).toBe(1009);
      expect(await within(channel[to].closed, `the ${to}'s side`)).toEqual({ code: 1009, reason: "message too big" });
      expect(channel[to].received).toHaveLength(1);
      await expectStillServing();
    },
  );

  it.each([
    { slow: "application", fast: "browser", toward: "towardApplication" },
    { slow: "browser", fast: "application", toward: "towardBrowsers" },
  ] as const)(
    "a slow $slow: FAMOS stops reading from the $fast while it holds more than the high-water mark toward the $slow, and every message arrives in order once the $slow reads again",
    async ({ slow, fast, toward }) => {
      const channel = await openChannel();
      const reader = rawSocket(channel[slow].socket);
      reader.pause();
      for (let i = 0; i < FLOOD_MESSAGES; i += 1) channel[fast].socket.send(floodMessage(i));

      // What FAMOS holds, sampled until nothing moves any more: the sender has sent all it could and
      // the kernel's buffers on both connections are full.
      let most = 0;
      await untilStill("FAMOS and the sender", () => {
        const held = t.app.proxiedWebSockets.buffered()[toward];
        most = Math.max(most, held);
        return held > 0 ? held + channel[fast].socket.bufferedAmount : -1;
      });
      expect(most, "bytes FAMOS held toward the slow side").toBeLessThanOrEqual(MOST_HELD);
      // The rest waits at the sender, not in FAMOS.
      expect(channel[fast].socket.bufferedAmount).toBeGreaterThan(0);

      reader.resume();
      await until("every message at the slow side", () => channel[slow].received.length >= FLOOD_MESSAGES, 20_000);
      expect(channel[slow].received).toHaveLength(FLOOD_MESSAGES);
      const wrong = channel[slow].received.findIndex((message, i) => !message.equals(floodMessage(i)));
      expect(wrong, "the first message out of order or changed").toBe(-1);
      expect(t.app.proxiedWebSockets.buffered()[toward]).toBe(0);
      channel.browser.socket.close();
      await within(channel.application.closed, "the application's side");
    },
  );

  it("reads nothing from the browser until the application has accepted the WebSocket; then everything arrives in order", async () => {
    const { browser, application } = await openBrowserSide("&hold");
    await until("the application's handshake to be held", () => held.length === 1);
    for (let i = 0; i < FLOOD_MESSAGES; i += 1) browser.socket.send(floodMessage(i));
    await untilStill("the browser's buffer", () => browser.socket.bufferedAmount);
    // What the kernel's buffers on the way could take left the browser; the rest waits there, not in FAMOS.
    expect(browser.socket.bufferedAmount).toBeGreaterThan((FLOOD_MESSAGES * FLOOD_MESSAGE_BYTES) / 2);

    held.shift()!();
    const app = await within(application, "the application's side");
    await until("every message at the application", () => app.received.length >= FLOOD_MESSAGES, 20_000);
    expect(app.received.findIndex((message, i) => !message.equals(floodMessage(i))), "the first message out of order or changed").toBe(-1);
    browser.socket.close();
    await within(app.closed, "the application's side");
  });

  it("keeps serving after all of it", async () => {
    await expectStillServing();
  });
});
