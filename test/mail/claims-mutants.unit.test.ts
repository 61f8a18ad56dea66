import type { Logger } from "pino";
import { describe, expect, it } from "vitest";
import { MailClaims, waitsFirst } from "../../src/mail/claims.ts";
import { enqueueClaimedMail, findMail, type OutboxMessage } from "../../src/mail/outbox.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { createUser } from "../../src/users/users.ts";
import { outboxMessage } from "../support/outbox-message.ts";
import { createUnitStore, useUnitStore } from "../support/unit-store.ts";

/**
 * The sender's connection rule (src/mail/claims.ts, reachServer and leaveServer) on its own, over a real
 * in-memory store: at most `batch` messages at the SMTP server, the next connection to a code someone waits
 * for (waitsFirst) before the rest, a waited message's lease renewed past half of it, and a message that
 * does not go ("lost", "leaver", "withdrawn") giving its connection to the next. reset-flood-slow-relay.test
 * holds the sender to the same rule with a real SMTP server (runs C11–C12: no unit file reached it).
 */
const LEASE = 60_000;
const store = useUnitStore();

function claims(batch: number): MailClaims {
  return new MailClaims({ db: store.db, dialect: "sqlite", clock: store.clock }, { leaseMs: LEASE, batch, scrubBodies: false });
}

/** Lets every promise that can settle now settle (no timer, no sleep). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** reachServer's answers in the order they came. */
function reached(mail: MailClaims, messages: OutboxMessage[], order: string[]): Promise<string>[] {
  return messages.map((message) => mail.reachServer(message).then((answer) => (order.push(`${message.kind}:${answer}`), answer)));
}

describe("MailClaims: the SMTP pool's connections", () => {
  it("waitsFirst: a code someone waits for at OTP capture (sign-in, enrolment, email change), nothing else", () => {
    for (const kind of ["code.signin", "code.enrol", "code.email-change"]) expect(waitsFirst({ kind }), kind).toBe(true);
    for (const kind of ["code.reset", "notice.lock", "announcement", "", "Stryker was here!"]) expect(waitsFirst({ kind }), kind).toBe(false);
  });

  it("lets `batch` messages go at once and no more; each one that leaves gives its connection to one waiting, then frees it", async () => {
    const mail = claims(2);
    const order: string[] = [];
    const [a, b, c] = reached(mail, [outboxMessage({ kind: "notice.a" }), outboxMessage({ kind: "notice.b" }), outboxMessage({ kind: "notice.c" })], order);
    await settled();
    expect(order).toEqual(["notice.a:go", "notice.b:go"]);
    mail.leaveServer();
    await settled();
    expect(order).toEqual(["notice.a:go", "notice.b:go", "notice.c:go"]);
    await Promise.all([a, b, c]);
    // All three leave: both connections free again, so two more go at once and a third waits.
    mail.leaveServer();
    mail.leaveServer();
    const later: string[] = [];
    const next = reached(mail, [outboxMessage({ kind: "notice.d" }), outboxMessage({ kind: "notice.e" }), outboxMessage({ kind: "notice.f" })], later);
    await settled();
    expect(later).toEqual(["notice.d:go", "notice.e:go"]);
    mail.leaveServer();
    await Promise.all(next);
    expect(later).toEqual(["notice.d:go", "notice.e:go", "notice.f:go"]);
  });

  it("gives a free connection to a waiting code of sign-in, enrolment or email change before the mail that waited longer", async () => {
    const mail = claims(1);
    const order: string[] = [];
    const all = reached(
      mail,
      ["notice.first", "code.reset", "notice.lock", "code.signin", "code.enrol", "code.email-change"].map((kind) => outboxMessage({ kind })),
      order,
    );
    await settled();
    expect(order).toEqual(["notice.first:go"]);
    for (let i = 0; i < 5; i += 1) {
      mail.leaveServer();
      await settled();
    }
    await Promise.all(all);
    expect(order).toEqual(["notice.first:go", "code.signin:go", "code.enrol:go", "code.email-change:go", "code.reset:go", "notice.lock:go"]);
  });

  it("renews the lease of one past half of it, from now, and sends it; one before half goes as it is", async () => {
    const mail = claims(4);
    const now = store.clock.now();
    const written = await enqueueClaimedMail(store.db, now, store.random, "famos.test", { userId: null, kind: "notice.x", recipient: "a@dealer.test", subject: "s", text: "t", html: "h" }, now + LEASE / 2);
    expect(await mail.reachServer(written)).toBe("go");
    expect((await findMail(store.db, written.id))?.lease_until).toBe(now + LEASE);
    // Not in the store: a renewal would find no claim and answer "lost".
    expect(await mail.reachServer(outboxMessage({ lease_until: now + LEASE / 2 + 1 }))).toBe("go");
    expect(await mail.reachServer(outboxMessage({ lease_until: null }))).toBe("go");
  });

  it("a lease at exactly half, whose claim was lost meanwhile, answers 'lost' and frees its connection", async () => {
    const mail = claims(1);
    const now = store.clock.now();
    expect(await mail.reachServer(outboxMessage({ lease_until: now + LEASE / 2 }))).toBe("lost");
    // The connection is free: the next goes at once.
    expect(await mail.reachServer(outboxMessage({ lease_until: null }))).toBe("go");
  });

  it("a message that waited for a leaver's account disabled meanwhile answers 'leaver' and passes its connection on", async () => {
    const mail = claims(1);
    const now = store.clock.now();
    const user = (await createUser(store.db, store.keys, store.random, now, { loginId: "claims-leaver", fullName: "Jane Smith", partnerNumber: "01234", role: "user", passwordHash: "x", otpEmail: "jane@dealer.test" }))!;
    const notice = await enqueueClaimedMail(store.db, now, store.random, "famos.test", { userId: user.id, kind: "notice.x", recipient: "jane@dealer.test", subject: "s", text: "t", html: "h" }, now + LEASE);
    // Not waited: not asked (the claim checked it just before).
    const first = outboxMessage({ lease_until: null });
    await store.db.updateTable("users").set({ disabled_at: now }).where("id", "=", user.id).execute();
    expect(await mail.reachServer(first)).toBe("go");
    const order: string[] = [];
    const [waited, after] = reached(mail, [notice, outboxMessage({ kind: "notice.after", lease_until: null })], order);
    await settled();
    expect(order).toEqual([]);
    mail.leaveServer();
    expect(await waited).toBe("leaver");
    expect(await after).toBe("go");
    expect(order).toEqual(["notice.x:leaver", "notice.after:go"]);
    expect((await findMail(store.db, notice.id))?.state).toBe("failed");
  });

  it("a store that cannot be read: a waited message goes all the same, a lease past half is 'lost' and frees its connection, each logged", async () => {
    const broken = await createUnitStore(store.clock);
    await broken.close();
    const said: string[] = [];
    const logger = { error: (fields: { mail?: string }, text: string) => said.push(`${fields.mail}: ${text}`) } as unknown as Logger;
    const mail = new MailClaims({ db: broken.db, dialect: "sqlite", clock: store.clock, logger }, { leaseMs: LEASE, batch: 1, scrubBodies: false });
    const now = store.clock.now();
    const [first, waited] = [outboxMessage({ lease_until: null }), outboxMessage({ lease_until: null })];
    expect(await mail.reachServer(first)).toBe("go");
    const answer = mail.reachServer(waited);
    mail.leaveServer();
    // Sent as before: a dead code's mail is a nuisance, a live one lost keeps a user out.
    expect(await answer).toBe("go");
    mail.leaveServer();
    const halfway = outboxMessage({ lease_until: now + LEASE / 2 });
    expect(await mail.reachServer(halfway)).toBe("lost");
    expect(await mail.reachServer(outboxMessage({ lease_until: null }))).toBe("go");
    expect(said).toEqual([`${waited.id}: could not check a waiting mail's code and account`, `${halfway.id}: could not renew a mail's lease`]);
  });

  it("scrubBodies (every transport but development's): a waited code mail whose code was voided meanwhile is withdrawn, its bodies emptied (kept where the sender keeps them)", async () => {
    const scrubbing = new MailClaims({ db: store.db, dialect: "sqlite", clock: store.clock }, { leaseMs: LEASE, batch: 1, scrubBodies: true });
    const keeping = new MailClaims({ db: store.db, dialect: "sqlite", clock: store.clock }, { leaseMs: LEASE, batch: 1, scrubBodies: false });
    const now = store.clock.now();
    const user = (await createUser(store.db, store.keys, store.random, now, { loginId: "claims-voided", fullName: "Jane Smith", partnerNumber: "01234", role: "user", passwordHash: "x", otpEmail: "jane@dealer.test" }))!;
    const flow = await createFlow(store.db, store.random, { userId: user.id, kind: "signin", email: "jane@dealer.test", now });
    const voided = async () => {
      const mail = await enqueueClaimedMail(store.db, now, store.random, "famos.test", { userId: user.id, kind: "code.signin", recipient: "jane@dealer.test", subject: "s", text: "code 482913", html: "<b>482913</b>" }, now + LEASE);
      await store.db
        .insertInto("codes")
        .values({ id: `code-${mail.id}`, flow_id: flow.id, user_id: user.id, code_hash: mail.id, email: "jane@dealer.test", outbox_id: mail.id, created_at: now, expires_at: now + 900_000, tries: 0, consumed_at: null, voided_at: now, void_reason: "regenerated" })
        .execute();
      return mail;
    };
    for (const [mail, bodies] of [[scrubbing, ""], [keeping, "code 482913"]] as const) {
      const message = await voided();
      expect(await mail.reachServer(outboxMessage({ lease_until: null }))).toBe("go");
      const answer = mail.reachServer(message);
      mail.leaveServer();
      expect(await answer).toBe("withdrawn");
      expect(await findMail(store.db, message.id)).toMatchObject({ state: "failed", text_body: bodies });
    }
  });
});
