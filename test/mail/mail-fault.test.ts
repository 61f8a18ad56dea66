import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCode } from "../../src/otp/codes.ts";
import { currentCode } from "../../src/otp/current-code.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo } from "../../src/store/migrate.ts";
import { DIALECTS, testDatabase, type TestDatabase } from "../store/dialects.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { atOtpWhileRelayDenied } from "../support/relay-access-denied.ts";

const RELAYING_DENIED = "Can't send mail - all recipients were rejected: 554 5.7.1 <a@elsewhere.example>: Relay access denied";

/**
 * The kind of a failed try is stored as the sender records it (outbox.last_fault), and OTP capture reads
 * that, not the words it stored beside it (outbox.last_error, nodemailer's text: free text FAMOS parsed
 * back). Rows written before migration 020 keep working: it reads their words once and stores the kind.
 * Real smtp-server (parsed by mailparser), SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("the stored kind of a mail's failure (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  const row = (email: string) => t.deps.db.selectFrom("outbox").select(["state", "last_error", "last_fault"]).where("recipient", "=", email).executeTakeFirstOrThrow();

  it("records relaying denied at RCPT TO as 'relaying', a relay's 4yz as no kind, and clears it once sent", async () => {
    const { user } = await atOtpWhileRelayDenied(t, "fault-relaying", "10.9.2.1");
    expect(await row(user.otp_email!)).toMatchObject({ state: "queued", last_fault: "relaying" });
    expect((await row(user.otp_email!)).last_error).toContain("Relay access denied");

    t.smtp.rejectPermanently(true, 450, "4.2.0 Mailbox busy", [user.otp_email!]);
    t.clock.advance(60_000);
    await t.services.sender.drain();
    expect(await row(user.otp_email!)).toMatchObject({ state: "queued", last_fault: null });

    t.smtp.rejectPermanently(false);
    t.clock.advance(60_000);
    await t.services.sender.drain();
    expect(await row(user.otp_email!)).toMatchObject({ state: "sent", last_error: null, last_fault: null });
    expect((await t.smtp.waitForMessage((m) => m.envelopeTo.includes(user.otp_email!))).subject).toBeTruthy();
  });

  it("OTP capture's notRelayed follows the stored kind, not the stored words", async () => {
    const user = await addUser(t.deps, { loginId: "fault-read", email: "fault-read@elsewhere.example" });
    const flow = await createFlow(t.deps.db, t.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: t.clock.now() });
    const sent = await t.deps.db.transaction().execute((tx) => issueCode(t.deps, tx, flow, user.login_id, t.clock.now()));
    if (sent.kind !== "sent") throw new Error("not sent");
    const set = (values: { last_error: string | null; last_fault: string | null }) =>
      t.deps.db.updateTable("outbox").set({ state: "queued", attempts: 1, lease_until: null, next_attempt_at: t.clock.now() + 3_600_000, ...values }).where("id", "=", sent.outboxId).execute();
    await set({ last_error: "words a later nodemailer may put otherwise", last_fault: "relaying" });
    expect(await currentCode(t.deps.db, flow.id)).toMatchObject({ mail_state: "notRelayed" });
    await set({ last_error: RELAYING_DENIED, last_fault: null });
    expect(await currentCode(t.deps.db, flow.id)).toMatchObject({ mail_state: "delayed" });
  });
});

describe.each(DIALECTS)("migration 020 on %s: rows failed before it", (dialect) => {
  let database: TestDatabase;
  let store: Store;
  const old = (id: string, state: "queued" | "failed" | "sent", lastError: string | null) => ({
    id, user_id: null, kind: "code.signin", recipient: `${id}@elsewhere.example`, subject: "s", text_body: "t", html_body: "h",
    message_id: `<${id}@famos.test>`, state, attempts: 1, next_attempt_at: 100, lease_until: null, last_error: lastError,
    created_at: 100, sent_at: state === "sent" ? 150 : null, bounced_at: null, bounce_kind: null, bounce_reason: null,
  });
  beforeAll(async () => {
    database = await testDatabase(dialect, `fault_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, "019-login-digests");
    await store.db
      .insertInto("outbox")
      .values([
        old("m-waits", "queued", RELAYING_DENIED),
        old("m-failed", "failed", "Can't send mail - all recipients were rejected: 550 Relaying denied"),
        old("m-policy", "queued", "Can't send mail - all recipients were rejected: 550 5.7.1 Delivery not authorized, message refused"),
        old("m-sender", "queued", "Mail command failed: 550 5.7.0 Mail relay denied"),
        old("m-later", "queued", "Can't send mail - all recipients were rejected: 450 4.7.1 Relay access denied, try later"),
        old("m-sent", "sent", null),
      ] as never)
      .execute();
    await migrateTo(store, "020-mail-faults");
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("stores 'relaying' for a refusal to relay at RCPT TO, waiting or failed, and no kind for the rest", async () => {
    const rows = await store.db.selectFrom("outbox").select(["id", "last_fault", "last_error"]).orderBy("id").execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.last_fault]))).toEqual({
      "m-failed": "relaying",
      "m-later": null,
      "m-policy": null,
      "m-sender": null,
      "m-sent": null,
      "m-waits": "relaying",
    });
    expect(rows.find((r) => r.id === "m-waits")?.last_error).toBe(RELAYING_DENIED);
  });
});
