import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";
import { freezableRelay, type FreezableRelay } from "../support/relay.ts";
import { postgresTestUrl, type PostgresTestSchema } from "../support/services.ts";

/** FAMOS_DATABASE_TIMEOUT of this test: short, so waiting for it keeps the test fast. */
const BOUND_MS = 300;

/**
 * A sign-in while PostgreSQL stops answering in the middle of the request (a network partition, a
 * stuck server): the request gets the error page within FAMOS_DATABASE_TIMEOUT instead of hanging
 * for ever, the process goes on, the confirming transaction that was cut off keeps nothing it wrote
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

  it("answers the error page within the bound, writes nothing of the cut transaction, and signs in once the server answers", async () => {
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
      expect(answer.statusCode).toBe(500);
      expect(answer.body).toContain("Something went wrong on our side");

      relay.thaw();
      const used = await t.deps.db.selectFrom("codes").select("consumed_at").where("consumed_at", "is not", null).execute();
      expect(used).toEqual([]);
      const confirmed = await t.deps.db.selectFrom("audit").select("event").where("event", "=", "code.confirmed").execute();
      expect(confirmed).toEqual([]);

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
