import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient } from "../support/client.ts";

/**
 * A code's mail says which browser and address asked for it (issue 15), so its reader can tell a
 * stranger's request. The address is the request's client address, which FAMOS_TRUST_PROXY=true takes
 * from the client's own X-Forwarded-For (README: such a client can forge it). What it forges is then any
 * text without a space or a comma, and "Forgot password?" (FAMOS_PASSWORD_RESET=self) mails a code for a
 * login ID alone: a stranger wrote their own words ("call IT on …") into a genuine FAMOS mail to the
 * owner's mailbox. The mail names the browser and address only when the address is one (IPv4 or IPv6); else
 * it says what was asked, for which login ID, without them. Real HTTP handling (app.inject), SQLite, the test's SMTP relay.
 */
describe("the address a code's mail names", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self", FAMOS_TRUST_PROXY: "true" } });
  });
  afterAll(async () => t?.close());

  async function resetMailFor(forwardedFor: string): Promise<string> {
    const user = await addUser(t.deps);
    const stranger = new FormClient(t.app, "198.51.100.7", { "x-forwarded-for": forwardedFor });
    await stranger.get("/forgot-password");
    expect((await stranger.post("/forgot-password", { loginId: user.login_id })).headers.location).toBe("/forgot-password/code");
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(user.otp_email!));
    return `${mail.text}\n${mail.html}`;
  }

  it("is never a forged X-Forwarded-For's text: a stranger's words do not reach the owner's mailbox", async () => {
    const body = await resetMailFor("URGENT:your-FAMOS-account-is-locked.Call-IT-on-+44-20-7946-0000");
    expect(body).not.toContain("URGENT");
    expect(body).not.toContain("7946");
    expect(body).toContain("It was requested to reset your FAMOS password with the login ID");
  });

  it("is never an IPv6 zone ID's text: Node's isIP takes any text after a '%', so an address with a zone is not named", async () => {
    const body = await resetMailFor("::1%Your-account-is-locked.Call-IT-on-02079460000");
    expect(body).not.toContain("locked");
    expect(body).not.toContain("02079460000");
    expect(body).toContain("It was requested to reset your FAMOS password with the login ID");
  });

  it("is the forwarded address when it is one", async () => {
    expect(await resetMailFor("203.0.113.9")).toContain("at the address 203.0.113.9");
    expect(await resetMailFor("2001:db8::7")).toContain("at the address 2001:db8::7");
  });
});
