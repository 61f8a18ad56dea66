import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressKey } from "../../src/bounce/addresses.ts";
import { MAILBOX_SOFT_WINDOW_DAYS, recordBounce } from "../../src/bounce/record-bounce.ts";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { DIALECTS } from "../store/dialects.ts";
import { createTestApp, type TestApp } from "../support/app.ts";

const DAY = 86_400_000;

/**
 * The soft-bounce window (MAILBOX_SOFT_WINDOW_DAYS) under reports that race, on a row written before the
 * window existed (a run older than it) and on an address the run already made undeliverable.
 */
describe.each(DIALECTS)("mailbox soft bounces racing across the window (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  const row = (address: string) => t.deps.db.selectFrom("mail_addresses").selectAll().where("address_key", "=", addressKey(address)).executeTakeFirstOrThrow();
  async function twoReportsAtOnce(address: string) {
    const ids = [];
    for (let i = 0; i < 2; i += 1) ids.push(await enqueueMail(t.deps.db, t.clock.now(), t.deps.random, t.deps.mailDomain, { userId: null, kind: "lock", recipient: address, subject: "s", text: "t", html: "h" }));
    t.clock.advance(60_000);
    const outcomes = await Promise.all(ids.map((outboxId) => recordBounce(t.deps, { outboxId, kind: "soft", status: "4.2.2", reason: "452 4.2.2 Mailbox full" }, "webhook")));
    expect(outcomes.map((o) => o.kind)).toEqual(["recorded", "recorded"]);
  }

  it("a run older than the window (a row from before the change): two reports at once restart it and both count", async () => {
    const address = `old.run.${database}@dealer.example`;
    const now = t.clock.now();
    await t.deps.db.insertInto("mail_addresses").values({ address_key: addressKey(address), soft_bounces: 4, mailbox_soft_bounces: 4, mailbox_soft_since: now - (MAILBOX_SOFT_WINDOW_DAYS + 6) * DAY, updated_at: now }).execute();
    await twoReportsAtOnce(address);
    expect(await row(address)).toMatchObject({ mailbox_soft_bounces: 2, mailbox_soft_since: t.clock.now(), undeliverable_at: null, soft_bounces: 6 });
  });

  it("an address the run made undeliverable keeps its run and its mark; two reports at once both count", async () => {
    const address = `escalated.${database}@dealer.example`;
    const now = t.clock.now();
    const since = now - (MAILBOX_SOFT_WINDOW_DAYS + 6) * DAY;
    await t.deps.db
      .insertInto("mail_addresses")
      .values({ address_key: addressKey(address), soft_bounces: 5, mailbox_soft_bounces: 5, mailbox_soft_since: since, undeliverable_at: since + 4 * DAY, undeliverable_reason: "full", updated_at: now })
      .execute();
    await twoReportsAtOnce(address);
    expect(await row(address)).toMatchObject({ mailbox_soft_bounces: 7, mailbox_soft_since: since, undeliverable_at: since + 4 * DAY, undeliverable_reason: "full" });
  });

  it("within the window, two reports at once that reach the fifth over three days escalate once", async () => {
    const address = `fifth.${database}@dealer.example`;
    const now = t.clock.now();
    await t.deps.db.insertInto("mail_addresses").values({ address_key: addressKey(address), soft_bounces: 3, mailbox_soft_bounces: 3, mailbox_soft_since: now - 4 * DAY, updated_at: now }).execute();
    await twoReportsAtOnce(address);
    const after = await row(address);
    expect(after).toMatchObject({ mailbox_soft_bounces: 5, mailbox_soft_since: now - 4 * DAY, undeliverable_at: t.clock.now() });
  });
});
