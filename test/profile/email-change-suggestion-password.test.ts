import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";

const MINUTE = 60_000;

/**
 * Profile's address form when it asks for the password (no code confirmed in the last 15 minutes),
 * with "Did you mean …?": early enrolment's faults (early-enrol-password-browser) on the same form.
 * "Use …" was a small form of its own without the password, so it was answered "enter your password",
 * the suggested address then asked about again; and "keep what I typed" was dropped by a wrong
 * password's answer, so the next try asked "Did you mean …?" again.
 */
describe("Profile: the password with \"Did you mean …?\"", () => {
  let t: TestApp;
  let ip = 0;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  /** Signed in with a code 16 minutes ago: the address form asks for the password. */
  async function passwordAsked() {
    const user = await addUser(t.deps, {});
    const client = new FormClient(t.app, `10.48.0.${(ip += 1)}`);
    await signInFully(client, t.smtp, user);
    t.clock.advance(16 * MINUTE);
    expect((await client.get("/profile")).body).toContain('id="emailPassword"');
    return { user, client };
  }

  it("\u201cUse \u2026\u201d is a button of the address form: the password typed there goes with the suggested address", async () => {
    const { user, client } = await passwordAsked();
    const typed = "kim.use@hotmial.co.uk";
    const asked = await client.post("/profile/email", { newEmail: typed, confirmNewEmail: typed, password: user.password });
    expect(asked.statusCode).toBe(400);
    expect(asked.body).toContain('<button type="submit" form="email-form" class="secondary" name="useSuggestion" value="kim.use@hotmail.co.uk">Use kim.use@hotmail.co.uk</button>');
    // After the form's own button: the first is the default button, the one Enter presses (email-change-enter-keeps-typed-browser).
    expect(asked.body.indexOf('<div class="buttons"><button type="submit">Send code</button>')).toBeGreaterThan(-1);
    expect(asked.body.indexOf('name="useSuggestion"')).toBeGreaterThan(asked.body.indexOf('<div class="buttons"><button type="submit">Send code</button>'));
    expect(asked.body).toMatch(/<form method="post" action="\/profile\/email" id="email-form" novalidate>/);
    // What the browser sends for that button: the form's fields, the button's value, the password typed.
    const used = await client.post("/profile/email", { newEmail: typed, confirmNewEmail: typed, keepTyped: typed, useSuggestion: "kim.use@hotmail.co.uk", password: user.password });
    expect([used.statusCode, used.headers.location]).toEqual([303, "/profile/email/confirm?notice=sent"]);
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBe("kim.use@hotmail.co.uk");
  });

  it("keeps the typed address through a wrong password: the right one then sends the code", async () => {
    const { user, client } = await passwordAsked();
    const typed = "kim.keep@hotmial.co.uk";
    await client.post("/profile/email", { newEmail: typed, confirmNewEmail: typed, password: user.password });
    const wrong = await client.post("/profile/email", { newEmail: typed, confirmNewEmail: typed, keepTyped: typed, password: "not the password" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain(`<input type="hidden" name="keepTyped" value="${typed}">`);
    const right = await client.post("/profile/email", { newEmail: typed, confirmNewEmail: typed, keepTyped: typed, password: user.password });
    expect([right.statusCode, right.headers.location]).toEqual([303, "/profile/email/confirm?notice=sent"]);
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBe(typed);
  });
});
