import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { createUser } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/**
 * "Needs attention" is the retail IT team's to-do list: an address that cannot be delivered to, or
 * one several login IDs share. A leaver (disabled) signs in no more, so their bounced mailbox (often
 * deleted when they left) or the mailbox they shared with a colleague is nobody's to fix: listing
 * them sends support after accounts that are done with.
 */
describe.each(["sqlite", "postgres"] as const)("Needs attention leaves leavers out (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database });
    support = new FormClient(t.app);
    await signInFully(support, t.smtp, await addUser(t.deps, { role: "support", loginId: "att.support" }));
  });
  afterAll(async () => t?.close());

  it("lists a bounced address and a shared one while their users are enabled, and not once the user is disabled", async () => {
    const leaver = await addUser(t.deps, { loginId: "att.leaver", email: "att.leaver@dealer.example" });
    // Their code mail bounces (a mailbox the dealership deleted), before any code was confirmed.
    expect((await submitPassword(new FormClient(t.app), leaver.login_id, leaver.password)).headers.location).toBe("/otp");
    const mail = await t.deps.db.selectFrom("outbox").select("id").where("user_id", "=", leaver.id).executeTakeFirstOrThrow();
    expect((await recordBounce(t.deps, { outboxId: mail.id, kind: "hard", status: "5.1.1", reason: "550 no such user" }, "smtp")).kind).toBe("recorded");
    const sharer = await addUser(t.deps, { loginId: "att.sharer", email: "att.desk@dealer.example" });
    const colleague = await addUser(t.deps, { loginId: "att.colleague", email: "att.desk@dealer.example" });

    const before = (await support.get("/support/attention")).body;
    expect(before).toContain(`<a href="/support/users/${leaver.id}">`);
    expect(before).toContain(`<a href="/support/users/${sharer.id}">`);
    expect(before).toContain(`<a href="/support/users/${colleague.id}">`);

    expect((await disableUser(t.deps, operator, leaver.id)).kind).toBe("disabled");
    expect((await disableUser(t.deps, operator, sharer.id)).kind).toBe("disabled");
    const after = (await support.get("/support/attention")).body;
    expect(after).not.toContain(`<a href="/support/users/${leaver.id}">`);
    // The colleague alone has the address now: shared by nobody.
    expect(after).not.toContain(`<a href="/support/users/${sharer.id}">`);
    expect(after).not.toContain(`<a href="/support/users/${colleague.id}">`);
  });
});

const HASH = "$2b$10$abcdefghijklmnopqrstuuC9o7zZ9Qz1m9N0p0m0c3b8aQ8qUyy5y";

/** A console with a support user signed in, for one describe; `dead` marks an address undeliverable. */
function attentionConsole(loginId: string) {
  const c = {} as { t: TestApp; support: FormClient };
  beforeAll(async () => {
    c.t = await createTestApp();
    c.support = new FormClient(c.t.app);
    await signInFully(c.support, c.t.smtp, await addUser(c.t.deps, { role: "support", loginId }));
  });
  afterAll(async () => c.t?.close());
  const dead = (address: string, at: number) =>
    c.t.deps.db.insertInto("mail_addresses").values({ address_key: address, soft_bounces: 0, updated_at: at, undeliverable_at: at, undeliverable_reason: "550 5.1.2 no such domain" }).execute();
  /** `count` users of `partner` from `from` on, each with a confirmed address that bounced, older as `i` grows. */
  async function bounced(prefix: string, partner: string, from: number, count: number) {
    const now = c.t.clock.now();
    for (let i = from; i < from + count; i += 1) {
      const email = `${prefix}${i}@gone-dealer.example`;
      await createUser(c.t.deps.db, c.t.deps.keys, c.t.deps.random, now, { loginId: `${prefix}${i}`, fullName: `${prefix} ${i}`, partnerNumber: partner, role: "user", passwordHash: HASH, otpEmail: email });
      await dead(email, now - 10 - i);
    }
  }
  return { c, dead, bounced };
}

/**
 * A dealership whose mail domain fails bounces every user's code mail at once. The list shows the
 * newest 200; it must say when there are more, not look complete.
 */
describe("Needs attention says when more undeliverable or shared addresses exist than it lists", () => {
  const { c, bounced } = attentionConsole("att.support");

  it("lists 200 without a note, and at 201 says only the newest 200 are listed", async () => {
    await bounced("gone", "4711", 0, 200);
    const all = (await c.support.get("/support/attention")).body;
    expect(all.match(/<a href="\/support\/users\//g)?.length).toBe(200);
    expect(all).not.toContain("Only the 200 most recent are listed");
    await bounced("gone", "4711", 200, 1);
    const more = (await c.support.get("/support/attention")).body;
    expect(more.match(/<a href="\/support\/users\//g)?.length).toBe(200);
    expect(more).toContain("Only the 200 most recent are listed: more users have an undeliverable OTP email. Many at one partner");
  });

  // Shared addresses are listed the same way: the first 200 (by address), with a note when there are more.
  async function shared(from: number, count: number) {
    const now = c.t.clock.now();
    for (let i = from; i < from + count; i += 1) {
      for (const who of ["a", "b"]) {
        const user = { loginId: `pair${i}${who}`, fullName: `Pair ${i}${who}`, partnerNumber: "4711", role: "user" as const, passwordHash: HASH, otpEmail: `desk${String(i).padStart(3, "0")}@dealer.example` };
        await createUser(c.t.deps.db, c.t.deps.keys, c.t.deps.random, now, user);
      }
    }
  }

  it("shared addresses: lists 200 without a note, and at 201 says only the first 200 are listed", async () => {
    await shared(0, 200);
    const all = (await c.support.get("/support/attention")).body;
    expect(all.match(/\(Pair \d+a, /g)?.length).toBe(200);
    expect(all).not.toContain("Only the first 200 shared addresses are listed");
    await shared(200, 1);
    const more = (await c.support.get("/support/attention")).body;
    expect(more.match(/\(Pair \d+a, /g)?.length).toBe(200);
    expect(more).toContain("Only the first 200 shared addresses are listed (by address): more addresses are the OTP email of several login IDs.");
  });
});

/**
 * The list reads the newest addresses, then leaves out those their user no longer has (a Profile
 * change that ended keeps users.pending_email). Such rows must neither make it claim more than it
 * holds nor take the places of addresses still held.
 */
describe("Needs attention's cut counts only addresses still held", () => {
  const { c, dead, bounced } = attentionConsole("cut.support");

  it("with two newer addresses no longer held, lists the 200 held without a note, and at 201 held says more", async () => {
    const now = c.t.clock.now();
    for (const n of [1, 2]) {
      const user = await createUser(c.t.deps.db, c.t.deps.keys, c.t.deps.random, now, { loginId: `moved${n}`, fullName: `Moved ${n}`, partnerNumber: "4712", role: "user", passwordHash: HASH, otpEmail: `moved${n}@live-dealer.example` });
      await c.t.deps.db.updateTable("users").set({ pending_email: `moved${n}@typo-dealer.example` }).where("id", "=", user!.id).execute();
      await dead(`moved${n}@typo-dealer.example`, now - n);
    }
    await bounced("held", "4712", 0, 200);
    const all = (await c.support.get("/support/attention")).body;
    expect(all.match(/<a href="\/support\/users\//g)?.length).toBe(200);
    expect(all).not.toContain("moved1");
    expect(all).not.toContain("Only the 200 most recent are listed");
    await bounced("held", "4712", 200, 1);
    const more = (await c.support.get("/support/attention")).body;
    expect(more.match(/<a href="\/support\/users\//g)?.length).toBe(200);
    expect(more).toContain("Only the 200 most recent are listed");
  });
});
