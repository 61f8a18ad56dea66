import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { holdWrites } from "../store/hold-writes.ts";
import { migratedTestDatabase, type TestDatabase } from "../store/dialects.ts";
import { TEST_SECRET } from "../support/app.ts";
import { freePort } from "../support/nginx.ts";
import { depsOn } from "../support/served-famos.ts";
import { runFamos, type FamosCommand } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until, within } from "../support/until.ts";

/**
 * A stop (SIGTERM) asked for while `famos serve` starts is made once the start is done, without opening
 * the port. The mail sender was started before the stop was looked at, so an instance on its way out
 * claimed and sent the outbox's due mail, and its stop waited for those sends; and the jobs of a
 * running server (the hashes' priority, the cleanup schedule, the digests' refresh) were started too.
 * Ordered, not timed: the start is held at the demo user's insert (PostgreSQL, a lock the test holds)
 * until the stop has begun, then let go.
 */
describe("a SIGTERM while famos serve starts (postgres, held at the demo user's insert)", () => {
  let database: TestDatabase;
  let store: Store;
  let smtp: TestSmtpServer;
  let proc: FamosCommand | undefined;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    database = await migratedTestDatabase("postgres", "stop_starting");
    store = openStore(database.url);
  });
  afterAll(async () => {
    proc?.child.kill("SIGKILL");
    await store?.close();
    await smtp?.stop();
    await database?.drop();
  });

  it("starts neither the mail sender nor the server's jobs, opens no port, and exits 0", { timeout: 60_000 }, async () => {
    const deps = depsOn({ store, database });
    const id = await enqueueMail(store.db, Date.now(), deps.random, "famos.test", {
      userId: null,
      kind: "notice.test",
      recipient: "dealer@dealer.test",
      subject: "Due before the start",
      text: "due",
      html: "<p>due</p>",
    });
    const hold = await holdWrites(database.url, "users");
    try {
      const port = await freePort();
      // Not production: the demo user is made at start, and its insert waits at the held lock.
      proc = runFamos(["serve"], {
        ...hold.env,
        FAMOS_SECRET: TEST_SECRET,
        FAMOS_DATABASE_URL: database.url,
        FAMOS_DATABASE_TIMEOUT: "2m",
        FAMOS_SMTP_URL: smtp.url,
        FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
        FAMOS_HOST: "127.0.0.1",
        FAMOS_PORT: String(port),
      });
      await until("the start at the demo user's insert", async () => (await hold.waiting()) === 1, 30_000);
      proc.child.kill("SIGTERM");
      await until("the stop to begin", () => proc!.stdout().includes('"msg":"shutting down"'), 30_000);
    } finally {
      await hold.release();
    }
    const exit = await within(proc.exited, "the exit after SIGTERM", 30_000);
    expect(exit, proc.stderr()).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toContain('"msg":"stopped"');
    expect(proc.stdout()).not.toContain("Server listening");
    const row = await store.db.selectFrom("outbox").select(["state", "attempts", "lease_until"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toEqual({ state: "queued", attempts: 0, lease_until: null });
    expect(smtp.messages).toEqual([]);
    expect(proc.stdout()).not.toContain("password hashing threads lowered");
  });
});
