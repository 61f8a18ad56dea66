import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it, vi } from "vitest";
import { closesConnections, drainConnections, trackConnections } from "../../src/web/drain.ts";
import { within } from "../support/until.ts";

/** A plain server with FAMOS's drain rule (every answer closes its connection once the listener closed). */
async function drainableServer(): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (closesConnections(server)) res.setHeader("connection", "close");
      res.end("answered");
    });
  });
  trackConnections(server);
  const accepted: Socket[] = [];
  server.on("connection", (socket: Socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, accepted };
}

/**
 * A client on a thread of its own (its own event loop): it connects, sends a POST once the kernel has
 * completed the connection, and then tells the test through `sent`. The test's thread waits for that
 * with Atomics.wait, its event loop held, so the server has not taken the connection from the kernel's
 * queue: as a proxy's connection made the instant before SIGTERM, the server's loop busy.
 */
const CLIENT = `
const { workerData, parentPort } = require("node:worker_threads");
const { connect } = require("node:net");
const sent = new Int32Array(workerData.sent);
const socket = connect(workerData.port, "127.0.0.1", () => {
  socket.write("POST /login HTTP/1.1\\r\\nhost: famos\\r\\ncontent-length: 5\\r\\n\\r\\nlogin");
  Atomics.store(sent, 0, 1);
  Atomics.notify(sent, 0);
});
let answer = "";
socket.setEncoding("utf8").on("data", (chunk) => (answer += chunk));
socket.on("error", (error) => parentPort.postMessage({ error: error.code ?? error.message }));
socket.on("close", () => parentPort.postMessage({ answer: answer.split("\\r\\n")[0] ?? "" }));
`;

describe("drainConnections (src/web/drain.ts)", () => {
  let server: Server | undefined;
  afterEach(() => {
    vi.useRealTimers();
    server?.closeAllConnections();
    server?.close();
    server = undefined;
  });

  /** A drainable server (also as `server`, for afterEach) with one connection an upgrade took over: the client's end and the server's. */
  async function openWebSocket(): Promise<{ server: Server; client: Socket; socket: Socket }> {
    const made = await drainableServer();
    server = made.server;
    const upgraded = new Promise<Socket>((resolve) => made.server.on("upgrade", (_request, socket: Socket) => resolve(socket)));
    const { connect } = await import("node:net");
    const client = connect(made.port, "127.0.0.1", () => client.write("GET /ws HTTP/1.1\r\nhost: famos\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n"));
    return { server: made.server, client, socket: await upgraded };
  }

  it("serves a connection the kernel completed but the server had not yet taken when the drain began", async () => {
    const made = await drainableServer();
    server = made.server;
    const sent = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(CLIENT, { eval: true, workerData: { port: made.port, sent: sent.buffer } });
    try {
      const result = new Promise((resolve) => worker.once("message", resolve));
      // The event loop held until the POST is on its way: the connection waits in the accept queue.
      expect(Atomics.wait(sent, 0, 0, 10_000)).not.toBe("timed-out");
      const drained = drainConnections(server, { quietMs: 1000 });
      expect(await within(result, "the client's answer")).toEqual({ answer: "HTTP/1.1 200 OK" });
      await within(drained, "the drain's end");
      expect(server.listening).toBe(false);
    } finally {
      await worker.terminate();
    }
  });

  it("closes a connection left unused only after quietMs from its own last request, not from the drain's start", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const made = await drainableServer();
    server = made.server;
    const { connect } = await import("node:net");
    const open = async () => {
      const before = made.accepted.length;
      const socket = connect(made.port, "127.0.0.1");
      // (setImmediate and socket events only: the timers are the test's.)
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        const poll = () => (made.accepted.length > before ? resolve() : setImmediate(poll));
        poll();
      });
      return { client: socket, accepted: made.accepted[made.accepted.length - 1]! };
    };
    const early = await open();
    const drained = drainConnections(server, { quietMs: 1000 });
    vi.advanceTimersByTime(600);
    // A connection the proxy opens during the drain (the listener still open): 600 ms into it.
    const late = await open();
    vi.advanceTimersByTime(400);
    expect({ early: early.accepted.destroyed, late: late.accepted.destroyed }).toEqual({ early: true, late: false });
    vi.advanceTimersByTime(600);
    expect({ late: late.accepted.destroyed, listening: server.listening }).toEqual({ late: true, listening: false });
    vi.useRealTimers();
    await within(drained, "the drain's end");
    early.client.destroy();
    late.client.destroy();
  });

  it("leaves a connection taken over by an upgrade (a proxied WebSocket) to its owner", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { server: s, client, socket } = await openWebSocket();
    const drained = drainConnections(s, { quietMs: 1000, limitMs: 5000 });
    vi.advanceTimersByTime(3000);
    expect({ upgraded: socket.destroyed, listening: s.listening }).toEqual({ upgraded: false, listening: false });
    socket.destroy();
    client.destroy();
    vi.advanceTimersByTime(2000);
    vi.useRealTimers();
    await within(drained, "the drain's end");
  });

  it("ends after its quiet interval with a WebSocket still open, not at its bound: the WebSocket is its owner's, not the drain's to wait for", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { server: s, client, socket } = await openWebSocket();
    let done = false;
    const drained = drainConnections(s, { quietMs: 1000, limitMs: 5000 }).then(() => (done = true));
    vi.advanceTimersByTime(999);
    await new Promise((resolve) => setImmediate(resolve));
    expect({ done, listening: s.listening }).toEqual({ done: false, listening: true });
    // The quiet interval over: the listener closes, no HTTP connection is left, and the drain ends then,
    // its bound's timer cleared, the WebSocket still open (4 s before the bound).
    vi.advanceTimersByTime(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect({ done, listening: s.listening, upgraded: socket.destroyed, timers: vi.getTimerCount() }).toEqual({ done: true, listening: false, upgraded: false, timers: 0 });
    await drained;
    socket.destroy();
    client.destroy();
  });
});
