import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";

// The whole flow on both databases: the same storage code must behave alike on each.
describe.each(["sqlite", "postgres"] as const)("sign-in flow over HTTP with a real SMTP server (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  it("enrols at first sign-in, mails a code to the new address, and opens the portal", async () => {
    const user = await addUser(t.deps, { email: null });
    const client = new FormClient(t.app);
    const password = await submitPassword(client, user.login_id, user.password);
    expect(password.statusCode).toBe(303);
    expect(password.headers.location).toBe("/enrol");

    const enrol = await client.get("/enrol");
    expect(enrol.body).toContain("User profile");
    expect(enrol.body).toContain("Please enter an email address that will be used to receive a one time passcode in order to access FAMOS");
    const sent = await client.post("/enrol", { email: " J.Smith@Dealer.example ", confirmEmail: "j.smith@dealer.example" });
    expect(sent.statusCode).toBe(303);

    // nodemailer lower-cases the domain in the envelope (domains are case-insensitive, RFC 5321 §2.4).
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("J.Smith@dealer.example"));
    expect(mail.envelopeTo).toEqual(["J.Smith@dealer.example"]);
    expect(mail.subject).toBe("Your FAMOS one time passcode");
    expect(mail.text).toContain("valid for 15 minutes");
    expect(mail.html).toContain("valid for 15 minutes");
    expect(mail.text).toContain(user.login_id);
    const code = await nextCode(t.smtp, "J.Smith@dealer.example");

    const otp = await client.get("/otp");
    expect(otp.body).toContain("OTP capture");
    expect(otp.body).toContain("J•••@Dealer.example");
    const confirmed = await client.post("/otp", { code });
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe("/");
    const portal = await client.get("/");
    for (const tab of ["Quotation", "Vehicle", "Customer", "Customer Assistant", "External Links", "Profile", "Sign out"]) {
      expect(portal.body).toContain(tab);
    }
    const stored = await t.deps.db.selectFrom("users").selectAll().where("id", "=", user.id).executeTakeFirstOrThrow();
    expect(stored.otp_email).toBe("J.Smith@Dealer.example");
  });

  it("goes straight to OTP capture for a user with a confirmed address, and signs out on the server", async () => {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const cookie = client.cookieHeader();
    expect((await client.get("/profile")).statusCode).toBe(200);
    const out = await client.post("/logout");
    expect(out.statusCode).toBe(303);
    const replay = await t.app.inject({ method: "GET", url: "/profile", headers: { cookie } });
    expect(replay.statusCode).toBe(303);
    expect(replay.headers.location).toMatch(/^\/login/);
  });

  it("refuses a wrong password and an unknown login ID with the same answer", async () => {
    const user = await addUser(t.deps);
    const wrong = await submitPassword(new FormClient(t.app), user.login_id, "not the password at all");
    const unknown = await submitPassword(new FormClient(t.app), "nobody-here", "not the password at all");
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (body: string) => body.replace(/value="[^"]*"/g, "");
    expect(strip(wrong.body).replace(user.login_id, "X")).toBe(strip(unknown.body).replace("nobody-here", "X"));
  });
});
