import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signIn, signInFully } from "../support/client.ts";

/**
 * Red team 2026-12-07, the signed-in insider at the Profile tab: one who holds a session of the
 * account (a shared PC left signed in) and a password guessed or seen, moving the OTP email to an
 * address of theirs. Each attack below is refused by rules held elsewhere; these pin the ones no
 * other test drives over HTTP: a code is good for its own flow only, in either direction, and a
 * token copied before the change's confirmation opens nothing after it.
 */
describe.each(["sqlite", "postgres"] as const)("red team: the insider at Profile (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  it("the code mailed to the new address does not sign in a half-signed-in browser of the account, nor does that sign-in's code confirm the change; the switch ends that browser", async () => {
    const user = await addUser(t.deps, { email: "owner@dealer.example" });
    const owner = new FormClient(t.app, "10.20.0.1");
    await signInFully(owner, t.smtp, user);
    await owner.get("/profile");
    const before = t.smtp.messages.length;
    expect((await owner.post("/profile/email", { newEmail: "owner.new@dealer.example", confirmNewEmail: "owner.new@dealer.example" })).statusCode).toBe(303);
    const changeCode = await nextCode(t.smtp, "owner.new@dealer.example", before);

    // Another browser with the password waits at OTP capture; its code went to the old address.
    const other = await signIn({ app: t.app, mailbox: t.mailbox }, { user, until: "otp", ip: "10.20.0.2" });
    const typedAtSignIn = await other.client.post("/otp", { code: changeCode });
    expect(typedAtSignIn.statusCode).toBe(401);
    expect((await other.client.get("/profile")).statusCode).toBe(303);

    // The sign-in's code typed into the change's own step: refused, the OTP email as it was.
    await owner.get("/profile/email/confirm");
    const typedAtChange = await owner.post("/profile/email/confirm", { code: other.code! });
    expect(typedAtChange.statusCode).toBe(401);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("owner@dealer.example");

    // The change confirms with its own code; the half-signed-in browser's code then signs in nobody.
    expect((await owner.post("/profile/email/confirm", { code: changeCode })).headers.location).toBe("/profile?done=email-changed");
    const late = await other.client.post("/otp", { code: other.code! });
    expect(late.statusCode).toBe(303);
    expect(late.headers.location).not.toBe("/");
    expect((await other.client.get("/profile")).statusCode).toBe(303);
    const failed = await queryAudit(t.deps.db, { subject: user.login_id, event: "code.failed" });
    expect(failed.map((e) => e.detail.purpose).sort()).toEqual(["email-change", "signin"]);
  });

  it("a session cookie copied before the change's confirmation opens nothing after it: no page, and no change of its own", async () => {
    const user = await addUser(t.deps, { email: "kept@dealer.example" });
    const owner = new FormClient(t.app, "10.21.0.1");
    await signInFully(owner, t.smtp, user);
    await owner.get("/profile");
    const before = t.smtp.messages.length;
    await owner.post("/profile/email", { newEmail: "kept.new@dealer.example", confirmNewEmail: "kept.new@dealer.example" });
    const changeCode = await nextCode(t.smtp, "kept.new@dealer.example", before);
    await owner.get("/profile/email/confirm");

    // The copy: the same cookies (the same session), its own page for a token.
    const copy = new FormClient(t.app, "10.21.0.9");
    for (const [name, value] of owner.cookies) copy.cookies.set(name, value);
    expect((await copy.get("/profile/email/confirm")).statusCode).toBe(200);

    expect((await owner.post("/profile/email/confirm", { code: changeCode })).headers.location).toBe("/profile?done=email-changed");
    // Stepped up with a new token: the copy's is dead, for pages and for the change's step alike.
    expect((await copy.get("/profile")).statusCode).toBe(303);
    const moved = await copy.post("/profile/email", { newEmail: "thief@evil.example", confirmNewEmail: "thief@evil.example" });
    expect([moved.statusCode, moved.headers.location]).toEqual([303, "/login"]);
    expect((await owner.get("/profile")).statusCode).toBe(200);
    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.otp_email).toBe("kept.new@dealer.example");
    expect(stored.pending_email).toBeNull();
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "email.change-started" })).toHaveLength(1);
  });
});
