import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migratedTestDatabase, type TestDatabase } from "../store/dialects.ts";
import { TEST_SECRET } from "../support/app.ts";
import { freePort } from "../support/nginx.ts";
import { depsOn } from "../support/served-famos.ts";
import { runFamos } from "../support/server-process.ts";
import { within } from "../support/until.ts";

/**
 * `famos serve` whose FAMOS_PORT another program holds exits 1 ("cannot listen"). Its mail sender was
 * started before the port: it claimed the due mail and the process exited with it leased (held 60 s, a
 * try used), so a sign-in code waited a minute on the instances that did start (review 2026-12-07: red 3
 * of 3 on the old order).
 */
describe("a famos serve whose port is taken (SQLite)", () => {
  let database: TestDatabase;
  let store: Store;
  let taken: Server;
  let smtp: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    database = await migratedTestDatabase("sqlite", "listen_fail");
    store = openStore(database.url);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    taken?.close();
    smtp?.close();
    await store?.close();
    await database?.drop();
  });

  it("leaves the due mail queued, not leased, for the instances that serve", { timeout: 60_000 }, async () => {
    const deps = depsOn({ store, database });
    const id = await enqueueMail(store.db, Date.now(), deps.random, "famos.test", {
      userId: null, kind: "notice.test", recipient: "dealer@dealer.test", subject: "Due", text: "due", html: "<p>due</p>",
    });
    const port = await freePort();
    taken = createServer();
    await new Promise<void>((r) => taken.listen(port, "127.0.0.1", r));
    // An SMTP relay that accepts and says nothing (slow greeting): the send stays in flight.
    smtp = createServer((s) => sockets.push(s));
    const smtpPort = await freePort();
    await new Promise<void>((r) => smtp.listen(smtpPort, "127.0.0.1", r));
    const proc = runFamos(["serve"], {
      FAMOS_SECRET: TEST_SECRET,
      FAMOS_DATABASE_URL: database.url,
      FAMOS_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
      FAMOS_HOST: "127.0.0.1",
      FAMOS_PORT: String(port),
    });
    const exit = await within(proc.exited, "the exit", 45_000);
    expect(proc.stderr()).toContain("cannot listen");
    expect(exit.code).toBe(1);
    const row = await store.db.selectFrom("outbox").select(["state", "attempts", "lease_until"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "queued", lease_until: null });
  });
});
