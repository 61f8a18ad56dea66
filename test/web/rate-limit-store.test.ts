import type { FastifyRateLimitStore, RateLimitOptions } from "@fastify/rate-limit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRedis } from "../../src/app/redis.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { REDIS_COOL_OFF_MS, redisOrLocalStore } from "../../src/web/rate-limit-store.ts";
import { freezableRelay, type FreezableRelay } from "../support/relay.ts";
import { redisTestUrl } from "../support/services.ts";

/** A copy: the in-memory store hands out its own entry, which the next count changes. */
type Count = { current: number; ttl: number };

/** The lines the store logs, as "warn: …" / "info: …". */
function recordingLogger(lines: string[]) {
  return {
    warn: (_fields: unknown, message: string) => void lines.push(`warn: ${message}`),
    info: (message: string) => void lines.push(`info: ${message}`),
  } as unknown as Parameters<typeof redisOrLocalStore>[2];
}

/**
 * The request limits' store while Redis hangs (src/web/rate-limit-store.ts), on the real Redis behind a
 * relay that can be frozen, with the clock injected: after a count Redis did not answer, the instance
 * counts on its own at once for REDIS_COOL_OFF_MS, without asking Redis (no command reaches the relay);
 * then one count probes Redis, and the counts go back to Redis when it answers. The outage is logged
 * once, and its end once.
 */
describe("request limits' store while Redis hangs", () => {
  let relay: FreezableRelay;
  let redis: Redis;
  let store: FastifyRateLimitStore;
  const clock = new FixedClock();
  const lines: string[] = [];
  /** What the store said of sharing, in order (famos_request_limits_shared follows it). */
  const shared: boolean[] = [];
  const count = (key: string) =>
    new Promise<Count>((resolve, reject) => store.incr(key, (error, result) => (error || !result ? reject(error ?? new Error("no count")) : resolve({ ...result })), 60_000, 100));

  beforeAll(async () => {
    const target = new URL(await redisTestUrl());
    relay = await freezableRelay(target.hostname, Number(target.port));
    redis = await openRedis(`redis://${relay.host}:${relay.port}${target.pathname}`, { warn: () => undefined, error: () => undefined });
    const Store = redisOrLocalStore(redis, "breaker-test:", recordingLogger(lines), clock, (yes) => shared.push(yes));
    store = new Store({ continueExceeding: false, exponentialBackoff: false } as RateLimitOptions);
  });
  afterAll(async () => {
    relay?.thaw();
    redis?.disconnect();
    await relay?.close();
  });

  it("stops asking Redis after a count it did not answer, probes once after the cool-off, and goes back to Redis when it answers", async () => {
    expect((await count("198.51.100.20")).current).toBe(1);

    relay.freeze();
    const frozenAt = relay.chunksFromClients;
    // The first count waits for Redis (its command timeout), then is counted on the instance.
    expect((await count("198.51.100.20")).current).toBe(1);
    expect(relay.chunksFromClients).toBe(frozenAt + 1);
    expect(lines).toEqual(["warn: Redis did not answer: request limits are per instance until it is back"]);
    expect(shared).toEqual([true, false]);

    // The cool-off: counted here at once, Redis not asked.
    for (let i = 2; i <= 6; i += 1) expect((await count("198.51.100.20")).current).toBe(i);
    clock.advance(REDIS_COOL_OFF_MS - 1);
    expect((await count("198.51.100.20")).current).toBe(7);
    expect(relay.chunksFromClients).toBe(frozenAt + 1);

    // Cool-off over, Redis still hung: one probe; the counts made meanwhile do not wait for it.
    clock.advance(1);
    const probe = count("198.51.100.20");
    const meanwhile = await Promise.all([count("198.51.100.20"), count("198.51.100.20")]);
    expect(meanwhile.map((c) => c.current)).toEqual([8, 9]);
    expect((await probe).current).toBe(10);
    expect(relay.chunksFromClients).toBe(frozenAt + 2);
    // Still the same outage: not logged again.
    expect(lines).toHaveLength(1);

    // Redis answers again; after the next cool-off the probe goes to Redis and the counts stay there.
    relay.thaw();
    expect((await count("198.51.100.21")).current).toBe(1); // cool-off restarted by the failed probe: counted here
    clock.advance(REDIS_COOL_OFF_MS);
    const before = relay.chunksFromClients;
    // Redis had the first count, and the two held while frozen (delivered once the network was back).
    expect((await count("198.51.100.20")).current).toBe(4);
    expect((await count("198.51.100.20")).current).toBe(5);
    expect(relay.chunksFromClients).toBe(before + 2);
    expect(lines).toEqual([
      "warn: Redis did not answer: request limits are per instance until it is back",
      "info: Redis answers again: request limits are shared by the instances again",
    ]);
    expect(shared).toEqual([true, false, true]);
  }, 30_000);
});
