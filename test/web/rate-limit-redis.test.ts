import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient } from "../support/client.ts";
import { freePort } from "../support/nginx.ts";
import { freezableRelay } from "../support/relay.ts";
import { redisTestUrl } from "../support/services.ts";

/** Password posts from one address to one instance, with a new client each (no device cookie). */
async function posts(t: TestApp, ip: string, count: number): Promise<number[]> {
  const user = await addUser(t.deps);
  const client = new FormClient(t.app, ip);
  await client.get("/login");
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 1) statuses.push((await client.post("/login", { loginId: user.login_id, password: "wrong password here" })).statusCode);
  return statuses;
}

/** The value of famos_request_limits_shared in an instance's /metrics (from 127.0.0.1, which may read it). */
async function limitsShared(t: TestApp): Promise<string | undefined> {
  const metrics = await t.app.inject({ url: "/metrics", remoteAddress: "127.0.0.1" });
  return /^famos_request_limits_shared (\S+)$/m.exec(metrics.body)?.[1];
}

/** Five password posts from one address, spread over two instances: 3 + 3 = 6 requests. */
async function spread(a: TestApp, b: TestApp, ip: string): Promise<number[]> {
  const user = await addUser(a.deps);
  const statuses: number[] = [];
  for (const t of [a, b]) {
    const client = new FormClient(t.app, ip);
    await client.get("/login");
    for (let i = 0; i < 3; i += 1) statuses.push((await client.post("/login", { loginId: user.login_id, password: "wrong password here" })).statusCode);
  }
  return statuses;
}

describe("per-address request limits across instances", () => {
  let shared: TestApp[] = [];
  let separate: TestApp[] = [];
  beforeAll(async () => {
    const env = { FAMOS_RATE_LIMIT: "5", FAMOS_REDIS_URL: await redisTestUrl(), FAMOS_LOCK_AFTER: "1000" };
    shared = [await createTestApp({ env }), await createTestApp({ env })];
    separate = [await createTestApp({ env: { FAMOS_RATE_LIMIT: "5", FAMOS_LOCK_AFTER: "1000" } }), await createTestApp({ env: { FAMOS_RATE_LIMIT: "5", FAMOS_LOCK_AFTER: "1000" } })];
  });
  afterAll(async () => {
    for (const t of [...shared, ...separate]) await t.close();
  });

  it("are shared through Redis: the sixth request, on the second instance, gets 429", async () => {
    const statuses = await spread(shared[0]!, shared[1]!, "198.51.100.7");
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // /metrics tells the operator the limits are shared.
    expect(await limitsShared(shared[0]!)).toBe("1");
  });

  it("answer 429 with a page that says when to try again", async () => {
    const client = new FormClient(shared[1]!.app, "198.51.100.7");
    await client.get("/login");
    const refused = await client.post("/login", { loginId: "anyone", password: "wrong password here" });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(refused.body).toMatch(/Too many requests from your address\. Please wait \d+ seconds/);
  });

  it("count each address on its own", async () => {
    const statuses = await spread(shared[0]!, shared[1]!, "198.51.100.8");
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("count on each instance while Redis is unreachable (the log says so; the database locks still count)", async () => {
    const t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "5", FAMOS_LOCK_AFTER: "1000", FAMOS_REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    try {
      expect(await posts(t, "198.51.100.10", 6)).toEqual([401, 401, 401, 401, 401, 429]);
      const counted = await t.deps.db.selectFrom("throttles").select("failures").where("key", "like", "password:id:%").execute();
      expect(counted.map((row) => row.failures)).toEqual([5]);
      // /metrics tells the operator each instance counts on its own, so one can alert on it.
      expect(await limitsShared(t)).toBe("0");
    } finally {
      await t.close();
    }
  });

  it("do not hold a sign-in while Redis hangs: it is answered at once, counted on the instance", async () => {
    const redis = new URL(await redisTestUrl());
    const relay = await freezableRelay(redis.hostname, Number(redis.port));
    const t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "5", FAMOS_LOCK_AFTER: "1000", FAMOS_REDIS_URL: `redis://${relay.host}:${relay.port}${redis.pathname}` } });
    try {
      expect(await posts(t, "198.51.100.11", 2)).toEqual([401, 401]);
      relay.freeze();
      const started = performance.now();
      const hung = new Promise<string>((resolve) => setTimeout(() => resolve("still waiting after 10 s"), 10_000).unref());
      const statuses = await Promise.race([posts(t, "198.51.100.11", 6), hung]);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      // The first waits at most the Redis command timeout (1 s); the others are counted here at once
      // (the breaker's cool-off; test/web/rate-limit-store.test.ts counts the commands).
      expect(performance.now() - started).toBeLessThan(9_000);
    } finally {
      await t.close();
      await relay.close();
    }
  }, 30_000);

  it("are per instance without Redis (documented in the README)", async () => {
    const statuses = await spread(separate[0]!, separate[1]!, "198.51.100.9");
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    expect(await limitsShared(separate[0]!)).toBe("0");
  });
});
