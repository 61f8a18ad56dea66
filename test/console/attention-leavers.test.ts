import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
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
