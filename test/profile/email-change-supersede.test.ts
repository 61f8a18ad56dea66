import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signIn, signInFully } from "../support/client.ts";
import { smtpMailbox } from "../support/mailbox.ts";

const REPLACED = "This email change is no longer open";

/**
 * Profile's OTP email change started in two browsers of one user, to two addresses (SPEC item 6, with
 * item 2's rule that only the newest address entered can be confirmed). Red team 2026-12-07: both
 * changes stayed open and the first confirmed won, so a code for an earlier address (mistyped, or
 * typed by someone who held a session) made it the OTP email after the owner had entered another.
 * Now starting a change ends the user's other open changes to other addresses with their codes, and
 * nothing else: a sign-in code another browser waits for still works.
 */
describe.each(["sqlite", "postgres"] as const)("Profile: a newer email change supersedes one to another address, on %s", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  async function browserOf(user: { login_id: string; password: string; otp_email: string | null }) {
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    return client;
  }

  async function startChange(client: FormClient, to: string): Promise<string> {
    const before = t.smtp.messages.length;
    expect((await client.post("/profile/email", { newEmail: to, confirmNewEmail: to })).headers.location).toBe("/profile/email/confirm?notice=sent");
    return nextCode(t.smtp, to, before);
  }

  /** The code confirmed in `client`'s code step: the change is made, and `to` is the OTP email. */
  async function expectConfirmed(client: FormClient, code: string, userId: string, to: string) {
    await client.get("/profile/email/confirm");
    expect((await client.post("/profile/email/confirm", { code })).headers.location).toBe("/profile?done=email-changed");
    expect((await findUserById(t.deps.db, userId))!.otp_email).toBe(to);
  }

  it("the earlier address's code no longer confirms, its tab says why, Regenerate sends it nothing, and the newer one confirms", async () => {
    const user = await addUser(t.deps, { email: "sup.old@dealer.example" });
    const first = await browserOf(user);
    const second = await browserOf(user);
    // A third browser of the same person waits at OTP capture for a sign-in code to the current address.
    const waiting = await signIn({ mailbox: smtpMailbox(t.smtp) }, { user, client: new FormClient(t.app), until: "otp" });

    const mistyped = "sup.nwe@dealer.example";
    const right = "sup.new@dealer.example";
    const earlierCode = await startChange(first, mistyped);
    const newerCode = await startChange(second, right);

    await first.get("/profile/email/confirm");
    const refused = await first.post("/profile/email/confirm", { code: earlierCode });
    expect(refused.headers.location).toBe("/profile?done=email-replaced");
    expect((await first.get("/profile?done=email-replaced")).body).toContain(REPLACED);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("sup.old@dealer.example");

    // Regenerate OTP in the old tab mails nothing more to the superseded address.
    t.clock.advance(t.config.otp.resendWaitMs);
    const regenerated = await first.post("/profile/email/regenerate", {});
    expect(regenerated.headers.location).toBe("/profile?done=email-replaced");
    const toMistyped = await t.deps.db.selectFrom("outbox").select("id").where("recipient", "=", mistyped).execute();
    expect(toMistyped).toHaveLength(1);
    // Its code page, opened again, says so as well.
    expect((await first.get("/profile/email/confirm")).headers.location).toBe("/profile?done=email-replaced");

    // The sign-in code the third browser waits for was not voided by either change.
    const signedIn = await waiting.client.post("/otp", { code: waiting.code! });
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe("/");

    // The newest address confirms, from the browser that entered it.
    await expectConfirmed(second, newerCode, user.id, right);
  });

  it("a change to the same address in another browser stays open: either can confirm it", async () => {
    const user = await addUser(t.deps, { email: "same.old@dealer.example" });
    const first = await browserOf(user);
    const second = await browserOf(user);
    const to = "same.new@dealer.example";
    const firstCode = await startChange(first, to);
    await startChange(second, to);
    await expectConfirmed(first, firstCode, user.id, to);
  });

  it("a change to the same mailbox in other case in another browser stays open too: addresses compare without regard to case", async () => {
    const user = await addUser(t.deps, { email: "case.old@dealer.example" });
    const first = await browserOf(user);
    const second = await browserOf(user);
    const firstCode = await startChange(first, "Case.New@dealer.example");
    await startChange(second, "case.new@dealer.example");
    await expectConfirmed(first, firstCode, user.id, "Case.New@dealer.example");
  });

  it("a change nobody superseded, cancelled, or one never started: no such message", async () => {
    const user = await addUser(t.deps, { email: "plain.old@dealer.example" });
    const client = await browserOf(user);
    const code = await startChange(client, "plain.new@dealer.example");
    expect((await client.post("/profile/email/cancel")).headers.location).toBe("/profile?done=email-cancelled");
    // Confirm after the Cancel: "cancelled", not "replaced".
    const late = (await client.post("/profile/email/confirm", { code })).headers.location!;
    expect(late).toBe("/profile?done=email-cancelled");
    expect((await client.get(late)).body).not.toContain(REPLACED);
    expect((await client.get("/profile?done=nonsense")).body).not.toContain(REPLACED);
  });
});
