import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { closesConnections, drainConnections, trackConnections } from "../../src/web/drain.ts";
import { within } from "../support/until.ts";

/**
 * A graceful stop's drain must end, and leave nothing behind that keeps the process alive or acts
 * later: none of its timers still set once it resolved, however it ended (everything closed, or its
 * bound reached with an answer still owed), and the connection owing that answer not cut by it.
 */
describe("drainConnections ends and leaves no timer behind (src/web/drain.ts)", () => {
  let server: Server | undefined;
  const clients: Socket[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const client of clients.splice(0)) client.destroy();
    server?.closeAllConnections();
    server?.close();
    server = undefined;
  });

  async function serve(answer: boolean) {
    const made = createServer((req, res) => {
      req.resume();
      if (!answer) return; // an answer still owed when the bound comes
      req.on("end", () => {
        if (closesConnections(made)) res.setHeader("connection", "close");
        res.end("answered");
      });
    });
    trackConnections(made);
    const accepted: Socket[] = [];
    const requests: number[] = [];
    made.on("connection", (socket: Socket) => accepted.push(socket));
    made.on("request", () => requests.push(1));
    await new Promise<void>((resolve) => made.listen(0, "127.0.0.1", resolve));
    server = made;
    const port = (made.address() as AddressInfo).port;
    const client = connect(port, "127.0.0.1", () => client.write("GET / HTTP/1.1\r\nhost: famos\r\n\r\n"));
    clients.push(client);
    // (setImmediate and socket events only: the timers are the test's.)
    await new Promise<void>((resolve) => {
      const poll = () => (requests.length > 0 ? resolve() : setImmediate(poll));
      poll();
    });
    return { server: made, socket: accepted[0]! };
  }

  it("every connection closed: resolved with no timer of its own left", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { server: s, socket } = await serve(true);
    const drained = drainConnections(s, { quietMs: 1000, limitMs: 5000 });
    for (let i = 0; i < 30 && !socket.destroyed; i += 1) {
      vi.advanceTimersByTime(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    vi.advanceTimersByTime(1000);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect({ destroyed: socket.destroyed, listening: s.listening, timers: vi.getTimerCount() }).toEqual({ destroyed: true, listening: false, timers: 0 });
    vi.useRealTimers();
    await within(drained, "the drain's end");
  });

  it("its bound reached with an answer owed: resolved at limitMs, the busy connection left to close, no timer left", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { server: s, socket } = await serve(false);
    let done = false;
    const drained = drainConnections(s, { quietMs: 1000, limitMs: 5000 }).then(() => (done = true));
    vi.advanceTimersByTime(4999);
    await new Promise((resolve) => setImmediate(resolve));
    expect({ done, listening: s.listening }).toEqual({ done: false, listening: false });
    vi.advanceTimersByTime(1);
    await drained;
    expect({ destroyed: socket.destroyed, timers: vi.getTimerCount() }).toEqual({ destroyed: false, timers: 0 });
  });

  it("a connection closing just before the bound: the check it asked for does not run on after the drain ended", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { server: s, socket: busy } = await serve(false);
    const port = (s.address() as AddressInfo).port;
    const idle = connect(port, "127.0.0.1");
    clients.push(idle);
    const accepted = await new Promise<Socket>((resolve) => s.once("connection", resolve));
    const drained = drainConnections(s, { quietMs: 1000, limitMs: 5000 });
    vi.advanceTimersByTime(1500); // the listener closed; the idle one is kept until its own quiet ends
    await new Promise((resolve) => setImmediate(resolve));
    // Its close asks the drain for a check (on the next turn); the bound comes first.
    const closed = new Promise<void>((resolve) => accepted.once("close", () => (vi.advanceTimersByTime(3500), resolve())));
    idle.destroy();
    await closed;
    await drained;
    for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect({ busy: busy.destroyed, timers: vi.getTimerCount() }).toEqual({ busy: false, timers: 0 });
  });

  it("a connection made during the drain keeps the listener open for quietMs from it, not from the drain's start; the drain's listener goes with it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { server: s } = await serve(false);
    const port = (s.address() as AddressInfo).port;
    const listeners = s.listenerCount("connection");
    const drained = drainConnections(s, { quietMs: 1000, limitMs: 5000 });
    vi.advanceTimersByTime(600);
    const late = connect(port, "127.0.0.1");
    clients.push(late);
    await new Promise<Socket>((resolve) => s.once("connection", resolve));
    vi.advanceTimersByTime(500); // 1100 ms into the drain, 500 ms after the late connection
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.listening).toBe(true);
    vi.advanceTimersByTime(500); // 1000 ms after it
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.listening).toBe(false);
    vi.advanceTimersByTime(5000);
    await drained;
    // Its own listener gone with it: nothing of the drain is left on the server.
    expect(s.listenerCount("connection")).toBe(listeners);
  });
});
