import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

const DAY = 86_400_000;

/**
 * Issue 15 at early enrolment (`/rollout/enrol`, the banner's "set your OTP email now"): red team
 * 2026-12-07 saw the route drop the review's suggestion, so "Did you mean …?" came as a bare error
 * with no "Use …" button and no way to keep the address as typed, which first-sign-in enrolment and
 * Profile's address form both give. And its "This is my own mailbox" tick (review 2026-12-07), as at
 * /enrol and on Profile: offered for an address another login ID already uses (FAMOS_SHARED_MAILBOX_POLICY=
 * warn, the default), where the page told the person to tick a box it did not show; and kept through a
 * wrong password's answer, where the next try with the right password then failed the address's check.
 */
describe("early enrolment: \"Did you mean …?\" and \"This is my own mailbox\"", () => {
  let t: TestApp;
  let ip = 0;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_2FA_GRACE_SIGNINS: "3" } });
  });
  afterAll(async () => t?.close());

  /** A user before their wave, signed in with the password alone, on the early enrolment form. */
  async function beforeTheWave() {
    const start = t.clock.now();
    const partner = `dym${(ip += 1)}`;
    await setWaveStart(t.deps.db, partner, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: partner });
    const client = new FormClient(t.app, `10.31.0.${ip}`);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/");
    await client.get("/rollout/enrol");
    return { user, client };
  }

  it("offers the suggestion and its button, changes nothing, and sends the code when the typed address is kept", async () => {
    const { user, client } = await beforeTheWave();
    const typed = "kim.early@hotmial.co.uk";
    const asked = await client.post("/rollout/enrol", { email: typed, confirmEmail: typed, password: user.password });
    expect(asked.statusCode).toBe(400);
    expect(asked.body).toContain("Did you mean <strong>kim.early@hotmail.co.uk</strong>?");
    expect(asked.body).toContain("Use kim.early@hotmail.co.uk");
    expect(asked.body).toContain("press Update below to keep it");
    // "Use …" is a button of the page's form, whose password goes with it (early-enrol-password-browser),
    // and the form carries what was typed.
    expect(asked.body).toContain('<button type="submit" form="enrol-form" class="secondary" name="useSuggestion" value="kim.early@hotmail.co.uk">');
    // After the form's own button: the first is the default button, the one Enter presses (early-enrol-enter-keeps-typed-browser).
    expect(asked.body.indexOf('<button type="submit">Update</button>')).toBeGreaterThan(-1);
    expect(asked.body.indexOf('name="useSuggestion"')).toBeGreaterThan(asked.body.indexOf('<button type="submit">Update</button>'));
    expect(asked.body).toMatch(/<form method="post" action="\/rollout\/enrol" id="enrol-form" novalidate>/);
    expect(asked.body).toContain(`<input type="hidden" name="keepTyped" value="${typed}">`);
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBeNull();
    // "Use …" with the password left empty: asked for in early enrolment's words, the suggested address filled in.
    const used = await client.post("/rollout/enrol", { email: typed, confirmEmail: typed, keepTyped: typed, useSuggestion: "kim.early@hotmail.co.uk", password: "" });
    expect(used.statusCode).toBe(401);
    expect(used.body).toContain('value="kim.early@hotmail.co.uk"');
    expect(used.body).toContain("Enter your password to set the address that will receive your codes.");
    expect(used.body).not.toContain("keepTyped");

    const kept = await client.post("/rollout/enrol", { email: typed, confirmEmail: typed, keepTyped: typed, password: user.password });
    expect(kept.statusCode).toBe(303);
    expect(kept.headers.location).toBe("/otp?notice=sent");
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBe(typed);
  });

  it("asks again when the address was changed after the question (keepTyped holds another address)", async () => {
    const { user, client } = await beforeTheWave();
    const asked = await client.post("/rollout/enrol", { email: "ann.early@gmial.com", confirmEmail: "ann.early@gmial.com", keepTyped: "ann.early@yahoo.co.uk", password: user.password });
    expect(asked.statusCode).toBe(400);
    expect(asked.body).toContain("Did you mean <strong>ann.early@gmail.com</strong>?");
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBeNull();
  });

  // The page's other buttons send the whole form (formaction), the kept address's hidden field with it.
  it("Cancel here, and \u201cLater\u201d at first-sign-in enrolment, still answer after the question", async () => {
    const { user, client } = await beforeTheWave();
    const typed = "lou.early@gmial.com";
    const asked = await client.post("/rollout/enrol", { email: typed, confirmEmail: typed, password: user.password });
    expect(asked.body).toContain(`name="keepTyped" value="${typed}"`);
    const cancelled = await client.post("/rollout/enrol/cancel", { email: typed, confirmEmail: typed, keepTyped: typed, password: "" });
    expect([cancelled.statusCode, cancelled.headers.location]).toEqual([303, "/"]);

    const due = await addUser(t.deps, { email: null });
    const browser = new FormClient(t.app, "10.31.1.1");
    expect((await submitPassword(browser, due.login_id, due.password)).headers.location).toBe("/enrol");
    await browser.get("/enrol");
    const question = await browser.post("/enrol", { email: typed, confirmEmail: typed });
    expect(question.body).toContain(`name="keepTyped" value="${typed}"`);
    const later = await browser.post("/enrol/later", { email: typed, confirmEmail: typed, keepTyped: typed });
    expect([later.statusCode, later.headers.location]).toEqual([303, "/"]);
  });

  it("is offered for an address another login ID uses, and ticked it enrols that address", async () => {
    await addUser(t.deps, { email: "shared.desk@dealer.example" });
    const { user, client } = await beforeTheWave();
    const address = { email: "shared.desk@dealer.example", confirmEmail: "shared.desk@dealer.example", password: user.password };
    const refused = await client.post("/rollout/enrol", address);
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("This is my own mailbox");
    expect(refused.body).toContain('name="ownMailbox"');
    const ticked = await client.post("/rollout/enrol", { ...address, ownMailbox: "yes" });
    expect(ticked.statusCode).toBe(303);
    expect(ticked.headers.location).toMatch(/^\/otp/);
  });

  it("stays ticked through a wrong password, and the right password then enrols", async () => {
    const { user, client } = await beforeTheWave();
    const address = { email: "info@dealer.example", confirmEmail: "info@dealer.example", ownMailbox: "yes" };
    const wrong = await client.post("/rollout/enrol", { ...address, password: "not the password" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toMatch(/name="ownMailbox" value="yes" checked/);
    const right = await client.post("/rollout/enrol", { ...address, password: user.password });
    expect(right.statusCode).toBe(303);
    expect(right.headers.location).toMatch(/^\/otp/);
  });
});
