import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { buildApp } from "../../src/web/app.ts";
import { addUser, createTestApp, TEST_SECRET, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { freePort } from "../support/nginx.ts";
import { freezableRelay } from "../support/relay.ts";
import { postgresTestUrl } from "../support/services.ts";
import { DIALECTS, testDatabase } from "../store/dialects.ts";
import { MIGRATION_NAMES } from "../../src/store/migrate.ts";

/** An app on a store as given (not migrated, or unreachable), for the readiness probe. */
async function appOn(store: Store, url: string, env: Record<string, string> = {}) {
  const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: url, ...env });
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  const services = createServices(loaded.config, { store, logger: pino({ level: "silent" }), startSender: false });
  const app = await buildApp({ deps: services.deps, store });
  return { app, close: () => app.close() };
}

/** Value of one sample line of the Prometheus text, e.g. `famos_sign_ins_total{outcome="password-ok"}`. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe.each(DIALECTS)("readiness on %s", (dialect) => {
  it("is 503 while migrations are pending, 200 once applied", async () => {
    const database = await testDatabase(dialect, `ready_${dialect}`);
    const store = openStore(database.url);
    const { app, close } = await appOn(store, database.url);
    try {
      expect((await app.inject("/healthz")).json()).toEqual({ status: "ok" });
      const pending = await app.inject("/readyz");
      expect(pending.statusCode).toBe(503);
      expect(pending.json()).toEqual({ status: "migrations pending", pending: MIGRATION_NAMES });
      const { migrateToLatest } = await import("../../src/store/migrate.ts");
      await migrateToLatest(store);
      const ready = await app.inject("/readyz");
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: "ready" });
    } finally {
      await close();
      await store.close();
      await database.drop();
    }
  });

});

// "Unreachable" means a database server: an embedded SQLite file cannot be away while the process runs.
describe("readiness on postgres", () => {
  it("is 503 when the database is unreachable, while /healthz still answers", async () => {
    const url = `postgres://postgres@127.0.0.1:${await freePort()}/test`;
    const store = openStore(url);
    const { app, close } = await appOn(store, url);
    try {
      const down = await app.inject("/readyz");
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual({ status: "database unreachable" });
      expect((await app.inject("/healthz")).statusCode).toBe(200);
      expect((await app.inject({ url: "/metrics" })).statusCode).toBe(200); // the outbox gauge keeps its last value
    } finally {
      await close();
      await store.close();
    }
  });
});

describe("readiness on postgres that stops answering", () => {
  it("is 503 'database unreachable' within FAMOS_DATABASE_TIMEOUT, not a probe that never ends", async () => {
    const schema = await postgresTestUrl("ready_hung");
    const target = new URL(schema.url);
    const relay = await freezableRelay(target.hostname, Number(target.port));
    target.host = `${relay.host}:${relay.port}`;
    const store = openStore(target.toString());
    // The store is opened unbounded here: the probe's own bound is the one under test.
    const { app, close } = await appOn(store, target.toString(), { FAMOS_DATABASE_TIMEOUT: "1s" });
    try {
      const { migrateToLatest } = await import("../../src/store/migrate.ts");
      await migrateToLatest(store);
      expect((await app.inject("/readyz")).statusCode).toBe(200);
      relay.freeze();
      const started = performance.now();
      const hung = new Promise<string>((resolve) => setTimeout(() => resolve("no answer after 15 s"), 15_000).unref());
      const answer = await Promise.race([app.inject("/readyz"), hung]);
      if (typeof answer === "string") throw new Error(answer);
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toEqual({ status: "database unreachable" });
      // 1 s, not the 5 s default (a generous margin for a busy machine).
      expect(performance.now() - started).toBeLessThan(4_000);
    } finally {
      await relay.close();
      await close();
      await store.close();
      await schema.drop();
    }
  }, 30_000);
});

describe("metrics", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_METRICS_ALLOW: "127.0.0.1/8,::1,10.20.0.0/16" } });
  });
  afterAll(async () => t.close());
  const scrape = async (ip = "127.0.0.1") => t.app.inject({ url: "/metrics", remoteAddress: ip });

  it("are served in the Prometheus text format only to the allowed addresses", async () => {
    const ok = await scrape();
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await scrape("10.20.3.4")).statusCode).toBe(200);
    expect((await scrape("::ffff:127.0.0.1")).statusCode).toBe(200);
    for (const ip of ["203.0.113.5", "10.21.0.1", "2001:db8::1"]) {
      const refused = await scrape(ip);
      expect(refused.statusCode).toBe(403);
      expect(refused.body).not.toContain("famos_");
    }
  });

  it("count sign-ins by outcome, codes, mail, the outbox, code-to-SMTP time and request durations", async () => {
    const before = (await scrape()).body;
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, "not the password at all");
    const sent = t.smtp.messages.length;
    await submitPassword(client, user.login_id, user.password);
    const code = await nextCode(t.smtp, user.otp_email!, sent);
    await client.get("/otp");
    await client.post("/otp", { code: code === "000000" ? "111111" : "000000" });
    await client.post("/otp", { code });
    const after = (await scrape()).body;

    const moved = (series: string) => sample(after, series) - sample(before, series);
    expect(moved('famos_sign_ins_total{outcome="password-refused"}')).toBe(1);
    expect(moved('famos_sign_ins_total{outcome="password-ok"}')).toBe(1);
    expect(moved('famos_sign_ins_total{outcome="code-wrong"}')).toBe(1);
    expect(moved('famos_sign_ins_total{outcome="code-ok"}')).toBe(1);
    expect(moved("famos_codes_sent_total")).toBe(1);
    expect(moved("famos_codes_failed_total")).toBe(1);
    expect(moved("famos_codes_confirmed_total")).toBe(1);
    expect(moved("famos_mail_sent_total")).toBe(1);
    expect(moved("famos_code_to_smtp_seconds_count")).toBe(1);
    expect(moved('famos_http_request_duration_seconds_count{method="POST",route="/otp",status="303"}')).toBe(1);
    expect(moved('famos_http_request_duration_seconds_count{method="POST",route="/login",status="401"}')).toBe(1);
    expect(after).toMatch(/^famos_outbox_depth 0$/m);
    expect(after).toContain("# TYPE famos_code_to_smtp_seconds histogram");
  });

  it("show the outbox depth while mail waits", async () => {
    t.smtp.refuse(true);
    try {
      const user = await addUser(t.deps);
      await submitPassword(new FormClient(t.app), user.login_id, user.password);
      expect(sample((await scrape()).body, "famos_outbox_depth")).toBe(1);
      await t.deps.db.updateTable("outbox").set({ state: "failed" }).where("recipient", "=", user.otp_email!).execute();
      expect(sample((await scrape()).body, "famos_outbox_depth")).toBe(0);
    } finally {
      t.smtp.refuse(false);
    }
  });
});
