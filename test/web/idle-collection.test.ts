import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FixedClock } from "../../src/platform/clock.ts";
import { requestActivity, trackConnections } from "../../src/web/drain.ts";
import { collectWhenIdle, fullCollection } from "../../src/web/idle-collection.ts";

/**
 * A real server tracked as `famos serve`'s is (trackConnections), whose answers wait until the test
 * lets them go: a request in flight for as long as the test wants. The collector's timer is the test's
 * `look`, its clock a FixedClock: time moves only when the test moves it.
 */
async function heldServer() {
  const waiting: ServerResponse[] = [];
  let arrived: () => void = () => {};
  const server: Server = createServer((req, res) => {
    req.resume();
    waiting.push(res);
    arrived();
  });
  trackConnections(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    server,
    /** Sends a request; resolves once the server holds it (its answer is the returned `answered`). */
    async send(): Promise<{ answered: Promise<string> }> {
      const held = new Promise<void>((resolve) => (arrived = resolve));
      const answered = fetch(url).then((r) => r.text());
      await held;
      return { answered };
    },
    answerAll() {
      for (const res of waiting.splice(0)) res.end("ok");
    },
  };
}

describe("collectWhenIdle (src/web/idle-collection.ts): one full collection once the server goes quiet", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  async function setUp() {
    const held = await heldServer();
    server = held.server;
    const clock = new FixedClock();
    let collections = 0;
    let look: () => void = () => {};
    let stopped = false;
    const idle = collectWhenIdle({
      activity: requestActivity(held.server),
      clock,
      collect: () => collections++,
      quietMs: 5_000,
      minRequests: 3,
      every: (_ms, tick) => {
        look = tick;
        return () => (stopped = true);
      },
    });
    /** Requests answered at once. */
    const busy = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const { answered } = await held.send();
        held.answerAll();
        await answered;
      }
    };
    return { held, clock, idle, look: () => look(), collections: () => collections, stopped: () => stopped, busy };
  }

  it("collects once after a quiet spell that follows a busy one, and not again until new requests come", async () => {
    const t = await setUp();
    // A server that has had no busy spell is left alone, however long it idles.
    t.look();
    t.clock.advance(60_000);
    t.look();
    expect(t.collections()).toBe(0);

    await t.busy(3);
    t.look(); // sees the requests
    t.clock.advance(4_999);
    t.look();
    expect(t.collections()).toBe(0); // not yet quiet
    t.clock.advance(1);
    t.look();
    expect(t.collections()).toBe(1);

    for (let i = 0; i < 5; i++) {
      t.clock.advance(60_000);
      t.look();
    }
    expect(t.collections()).toBe(1); // one collection per quiet spell

    await t.busy(3);
    t.look();
    t.clock.advance(5_000);
    t.look();
    expect(t.collections()).toBe(2);
    t.idle.stop();
    expect(t.stopped()).toBe(true);
  });

  it("never collects on the look that first sees new requests, however long the quiet before them (a burst after an idle minute)", async () => {
    const t = await setUp();
    t.look();
    t.clock.advance(60_000);
    await t.busy(3); // a burst since the last look, all answered
    t.look(); // sees them: the quiet starts now, not a minute ago
    expect(t.collections()).toBe(0);
    t.clock.advance(4_999);
    t.look();
    expect(t.collections()).toBe(0);
    t.clock.advance(1);
    t.look();
    expect(t.collections()).toBe(1);
  });

  it("never collects while a request is still being answered", async () => {
    const t = await setUp();
    await t.busy(3);
    const { answered } = await t.held.send(); // the fourth, held
    t.look();
    t.clock.advance(30_000);
    t.look();
    t.look();
    expect(t.collections()).toBe(0);

    t.held.answerAll();
    await answered;
    t.look();
    expect(t.collections()).toBe(1);
  });

  it("requests now and then (a health check) collect once per minRequests, not once per request", async () => {
    const t = await setUp();
    for (let i = 0; i < 4; i++) {
      await t.busy(1);
      t.look();
      t.clock.advance(10_000);
      t.look();
    }
    expect(t.collections()).toBe(1); // after the third; the fourth starts the next spell
  });

  it("this Node gives a full collection without --expose-gc, and leaves no gc global behind", () => {
    const collect = fullCollection();
    expect(collect).toBeTypeOf("function");
    collect?.();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
