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

/**
 * A dealership whose mail domain fails bounces every user's code mail at once. The list shows the
 * newest 200; it must say when there are more, not look complete.
 */
describe("Needs attention says when more undeliverable or shared addresses exist than it lists", () => {
  let t: TestApp;
  let support: FormClient;
  beforeAll(async () => {
    t = await createTestApp();
    support = new FormClient(t.app);
    await signInFully(support, t.smtp, await addUser(t.deps, { role: "support", loginId: "att.support" }));
  });
  afterAll(async () => t?.close());

  const HASH = "$2b$10$abcdefghijklmnopqrstuuC9o7zZ9Qz1m9N0p0m0c3b8aQ8qUyy5y";
  async function bounced(from: number, count: number) {
    const now = t.clock.now();
    for (let i = from; i < from + count; i += 1) {
      const email = `staff${i}@gone-dealer.example`;
      await createUser(t.deps.db, t.deps.random, now, { loginId: `gone${i}`, fullName: `Gone ${i}`, partnerNumber: "4711", role: "user", passwordHash: HASH, otpEmail: email });
      await t.deps.db.insertInto("mail_addresses").values({ address_key: email, soft_bounces: 0, updated_at: now, undeliverable_at: now - i, undeliverable_reason: "550 5.1.2 no such domain" }).execute();
    }
  }

  it("lists 200 without a note, and at 201 says only the newest 200 are listed", async () => {
    await bounced(0, 200);
    const all = (await support.get("/support/attention")).body;
    expect(all.match(/<a href="\/support\/users\//g)?.length).toBe(200);
    expect(all).not.toContain("Only the 200 most recent are listed");
    await bounced(200, 1);
    const more = (await support.get("/support/attention")).body;
    expect(more.match(/<a href="\/support\/users\//g)?.length).toBe(200);
    expect(more).toContain("Only the 200 most recent are listed: more users have an undeliverable OTP email. Many at one partner");
  });

  // Shared addresses are listed the same way: the first 200 (by address), with a note when there are more.
  async function shared(from: number, count: number) {
    const now = t.clock.now();
    for (let i = from; i < from + count; i += 1) {
      for (const who of ["a", "b"]) {
        const user = { loginId: `pair${i}${who}`, fullName: `Pair ${i}${who}`, partnerNumber: "4711", role: "user" as const, passwordHash: HASH, otpEmail: `desk${String(i).padStart(3, "0")}@dealer.example` };
        await createUser(t.deps.db, t.deps.random, now, user);
      }
    }
  }

  it("shared addresses: lists 200 without a note, and at 201 says only the first 200 are listed", async () => {
    await shared(0, 200);
    const all = (await support.get("/support/attention")).body;
    expect(all.match(/\(Pair \d+a, /g)?.length).toBe(200);
    expect(all).not.toContain("Only the first 200 shared addresses are listed");
    await shared(200, 1);
    const more = (await support.get("/support/attention")).body;
    expect(more.match(/\(Pair \d+a, /g)?.length).toBe(200);
    expect(more).toContain("Only the first 200 shared addresses are listed (by address): more addresses are the OTP email of several login IDs.");
  });
});
