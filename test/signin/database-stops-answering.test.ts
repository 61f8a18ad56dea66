import SQLite from "better-sqlite3";
import { sql } from "kysely";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";
import { freezableRelay, type FreezableRelay } from "../support/relay.ts";
import { postgresTestUrl, type PostgresTestSchema } from "../support/services.ts";

/** FAMOS_DATABASE_TIMEOUT of this test: short, so waiting for it keeps the test fast. */
const BOUND_MS = 300;

/** The answer to a request whose database was unavailable: busy, try again shortly, as a load balancer reads it. */
function expectBusyPage(answer: LightMyRequestResponse): void {
  expect(answer.statusCode).toBe(503);
  expect(answer.headers["retry-after"]).toBe("5");
  expect(answer.body).toContain("FAMOS is busy at the moment and could not finish your request. Please try again in a moment.");
  expect(answer.body).not.toContain("Something went wrong on our side");
}

/** Nothing of the confirming transaction is kept: the code is not used up, its confirmation not audited. */
async function expectNothingConfirmed(t: TestApp): Promise<void> {
  const used = await t.deps.db.selectFrom("codes").select("consumed_at").where("consumed_at", "is not", null).execute();
  expect(used).toEqual([]);
  const confirmed = await t.deps.db.selectFrom("audit").select("event").where("event", "=", "code.confirmed").execute();
  expect(confirmed).toEqual([]);
}

/**
 * A sign-in while PostgreSQL stops answering in the middle of the request (a network partition, a
 * stuck server): the request gets the busy page (503, Retry-After) within FAMOS_DATABASE_TIMEOUT
 * instead of hanging for ever, the process goes on, the confirming transaction that was cut off keeps nothing it wrote
 * (the code is not used up, the session not advanced), and once the server answers the same code
 * signs the user in.
 */
describe("a sign-in while PostgreSQL stops answering", () => {
  let schema: PostgresTestSchema;
  let relay: FreezableRelay;
  let t: TestApp;
  beforeAll(async () => {
    schema = await postgresTestUrl("signin_hung");
    relay = await freezableRelay("127.0.0.1", 5432);
    const url = new URL(schema.url);
    url.host = `${relay.host}:${relay.port}`;
    t = await createTestApp({ env: { FAMOS_DATABASE_URL: url.toString(), FAMOS_DATABASE_TIMEOUT: `${BOUND_MS}ms` } });
  });
  afterAll(async () => {
    relay?.thaw();
    await t?.close();
    await relay?.close();
    await schema?.drop();
  });

  it("answers the busy page within the bound, writes nothing of the cut transaction, and signs in once the server answers", async () => {
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on("uncaughtException", onCrash);
    process.on("unhandledRejection", onCrash);
    try {
      const user = await addUser(t.deps);
      const { client, code } = await signIn(t, { user, until: "otp" });
      // Cut off as the confirming transaction advances the session: the code is used up by then.
      relay.freezeWhen('"verified_at" = $');
      const started = performance.now();
      const hung = new Promise<string>((resolve) => setTimeout(() => resolve("no answer after 10 s"), 10_000).unref());
      const answer = await Promise.race([client.post("/otp", { code: code! }), hung]);
      if (typeof answer === "string") throw new Error(answer);
      expect(performance.now() - started).toBeLessThan(BOUND_MS + 2000);
      expectBusyPage(answer);

      relay.thaw();
      await expectNothingConfirmed(t);

      await client.get("/otp");
      const again = await client.post("/otp", { code: code! });
      expect(again.statusCode).toBe(303);
      expect((await client.get("/profile")).statusCode).toBe(200);
      expect(crashes).toEqual([]);
    } finally {
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
    }
  }, 30_000);
});

/**
 * SQLite's one writer held by another connection to the same file (the command line importing users,
 * a cleanup, an operator's sqlite3 shell in a transaction): the server's write waits out its busy
 * timeout, then gets SQLITE_BUSY. The request gets the busy page, keeps nothing of its transaction,
 * and the same code signs in once the other writer is done.
 */
describe("a sign-in while another connection holds SQLite's write lock", () => {
  let t: TestApp;
  beforeAll(async () => {
    // FAMOS_DATABASE_TIMEOUT bounds SQLite's wait for the write lock too (5 s by default).
    t = await createTestApp({ env: { FAMOS_DATABASE_TIMEOUT: "100ms" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers the busy page after FAMOS_DATABASE_TIMEOUT, writes nothing, and signs in once the lock is let go", async () => {
    expect(await sql<{ timeout: number }>`pragma busy_timeout`.execute(t.deps.db).then((r) => r.rows)).toEqual([{ timeout: 100 }]);
    const user = await addUser(t.deps);
    const { client, code } = await signIn(t, { user, until: "otp" });
    const other = new SQLite(t.config.databaseUrl.slice("sqlite:".length));
    try {
      other.exec("begin immediate");
      expectBusyPage(await client.post("/otp", { code: code! }));
      const asJson = await client.post("/otp", { code: code! }, { headers: { accept: "application/json" } });
      expect(asJson.statusCode).toBe(503);
      expect(asJson.headers["retry-after"]).toBe("5");
      expect(asJson.json()).toEqual({ error: "FAMOS is busy at the moment and could not finish your request. Please try again in a moment.", statusCode: 503 });
      other.exec("rollback");
      // Operators count them apart from the 500s of a fault of ours.
      const durations = await t.deps.metrics.registry.getSingleMetricAsString("famos_http_request_duration_seconds");
      expect(durations).toMatch(/famos_http_request_duration_seconds_count\{method="POST",route="\/otp",status="503"\} 2\b/);
    } finally {
      other.close();
    }
    await expectNothingConfirmed(t);

    await client.get("/otp");
    const again = await client.post("/otp", { code: code! });
    expect(again.statusCode).toBe(303);
    expect((await client.get("/profile")).statusCode).toBe(200);
  });
});
