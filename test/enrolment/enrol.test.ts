import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByLogin } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signIn, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

/** Screen 2, "User profile", over HTTP: the address is pending until its code is confirmed. */
describe("first-sign-in enrolment", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const atEnrolment = () => signIn(t, { until: "enrol" });
  const stored = async (loginId: string) => (await findUserByLogin(t.deps.db, loginId))!;

  it("stores the browser's language only once an address is accepted: refused input stores nothing", async () => {
    const { user, client } = await atEnrolment();
    const german = { "accept-language": "de-DE,de;q=0.9" };
    const refused = await client.post("/enrol", { email: "not an address", confirmEmail: "x" }, { headers: german });
    expect(refused.statusCode).toBe(400);
    expect((await stored(user.login_id)).locale).toBeNull();
    const address = `${user.login_id}@dealer.example`;
    const mark = t.smtp.messages.length;
    expect((await client.post("/enrol", { email: address, confirmEmail: address }, { headers: german })).statusCode).toBe(303);
    expect((await stored(user.login_id)).locale).toBe("de");
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(address) && t.smtp.messages.indexOf(m) >= mark);
    expect(mail.subject).toBe("Ihr FAMOS-Einmalkennwort");
  });

  // README: "A browser that asks for no language FAMOS has saves nothing", at enrolment as at the
  // password: FAMOS_DEFAULT_LOCALE is nobody's choice, and saved it would win over the browser later.
  it("a browser asking for no language FAMOS ships saves none at enrolment: the mail is in the default, the user keeps no language", async () => {
    const { user, client } = await atEnrolment();
    const japanese = { "accept-language": "ja-JP,ja;q=0.9" };
    const address = `${user.login_id}@dealer.example`;
    const mark = t.smtp.messages.length;
    expect((await client.post("/enrol", { email: address, confirmEmail: address }, { headers: japanese })).statusCode).toBe(303);
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(address) && t.smtp.messages.indexOf(m) >= mark);
    expect(mail.subject).toBe("Your FAMOS one time passcode");
    expect((await stored(user.login_id)).locale).toBeNull();
  });

  it("keeps the address pending until its code is confirmed; a user who mistyped signs in again and is asked again", async () => {
    const { user, client } = await atEnrolment();
    const mistyped = "jane.smiht@dealer.example";
    const before = t.smtp.messages.length;
    expect((await client.post("/enrol", { email: ` ${mistyped} `, confirmEmail: mistyped })).statusCode).toBe(303);
    await nextCode(t.smtp, mistyped, before);
    expect(await stored(user.login_id)).toMatchObject({ otp_email: null, otp_email_confirmed_at: null, pending_email: mistyped });

    // The code went to a mailbox the user cannot read: they sign in again and are asked again.
    const again = new FormClient(t.app);
    expect((await submitPassword(again, user.login_id, user.password)).headers.location).toBe("/enrol");
    expect((await again.get("/enrol")).body).toContain("Please enter an email address that will be used to receive a one time passcode in order to access FAMOS");
    const right = "Jane.Smith@Dealer.example";
    const mark = t.smtp.messages.length;
    expect((await again.post("/enrol", { email: right, confirmEmail: right.toLowerCase() })).statusCode).toBe(303);
    const code = await nextCode(t.smtp, "Jane.Smith@dealer.example", mark);
    expect((await stored(user.login_id)).pending_email).toBe(right);
    await again.get("/otp");
    expect((await again.post("/otp", { code })).headers.location).toBe("/");
    const confirmed = await stored(user.login_id);
    expect(confirmed).toMatchObject({ otp_email: right, pending_email: null });
    expect(confirmed.otp_email_confirmed_at).toBe(t.clock.now());

    // From now on: never asked again, straight to OTP capture.
    expect((await submitPassword(new FormClient(t.app), user.login_id, user.password)).headers.location).toBe("/otp");
  });

  it("voids the code sent to a mistyped address once another address is entered, so it can't be confirmed from the old browser", async () => {
    const { user, client: first } = await atEnrolment();
    const mistyped = "jane.smiht@dealer.example";
    const before = t.smtp.messages.length;
    await first.post("/enrol", { email: mistyped, confirmEmail: mistyped });
    const oldCode = await nextCode(t.smtp, mistyped, before);

    const second = new FormClient(t.app);
    await submitPassword(second, user.login_id, user.password);
    await second.get("/enrol");
    // An address of its own: one another test's user confirmed would be a shared address (issue 15).
    const right = `${user.login_id}.smith@dealer.example`;
    await second.post("/enrol", { email: right, confirmEmail: right });

    await first.get("/otp");
    const late = await first.post("/otp", { code: oldCode });
    expect(late.statusCode).not.toBe(303);
    expect((await stored(user.login_id)).otp_email).toBeNull();
  });

  it("a superseded address's flow takes no new code: Regenerate OTP in the old browser sends nothing there, and it can't become the OTP email", async () => {
    // Red team 2026-12-07: the newer enrolment voided the old address's code but left its flow open,
    // so Regenerate in the old browser sent a fresh, live code to the superseded address.
    const { user, client: first } = await atEnrolment();
    const mistyped = `${user.login_id}.smiht@dealer.example`;
    await first.post("/enrol", { email: mistyped, confirmEmail: mistyped });

    const second = new FormClient(t.app);
    await submitPassword(second, user.login_id, user.password);
    await second.get("/enrol");
    const right = `${user.login_id}.smith@dealer.example`;
    await second.post("/enrol", { email: right, confirmEmail: right });

    t.clock.advance(t.config.otp.resendWaitMs);
    await first.get("/otp");
    await first.post("/otp/regenerate", {});
    const toMistyped = await t.deps.db.selectFrom("outbox").select("id").where("recipient", "=", mistyped).execute();
    expect(toMistyped).toHaveLength(1);
    const live = await t.deps.db.selectFrom("codes").select("id").where("email", "=", mistyped).where("consumed_at", "is", null).where("voided_at", "is", null).execute();
    expect(live).toHaveLength(0);
    expect((await stored(user.login_id)).pending_email).toBe(right);
    // The right address still confirms, from the browser that entered it.
    const code = await nextCode(t.smtp, right, 0);
    await second.get("/otp");
    expect((await second.post("/otp", { code })).headers.location).toBe("/");
    expect((await stored(user.login_id)).otp_email).toBe(right);
  });

  it("asks for the 'This is my own mailbox' tick for a shared mailbox under policy warn, and goes on with it", async () => {
    const { user, client } = await atEnrolment();
    const warned = await client.post("/enrol", { email: "info@dealer.example", confirmEmail: "info@dealer.example" });
    expect(warned.statusCode).toBe(400);
    expect(warned.body).toContain("This looks like a shared group mailbox");
    expect(warned.body).toContain('<input type="checkbox" id="ownMailbox" name="ownMailbox" value="yes"> <label for="ownMailbox">This is my own mailbox</label>');
    expect(warned.body).toContain('value="info@dealer.example"');
    expect((await stored(user.login_id)).pending_email).toBeNull();

    const ticked = await client.post("/enrol", { email: "info@dealer.example", confirmEmail: "info@dealer.example", ownMailbox: "yes" });
    expect(ticked.statusCode).toBe(303);
    expect((await stored(user.login_id)).pending_email).toBe("info@dealer.example");
    const audit = await t.deps.db.selectFrom("audit").select("detail").where("subject", "=", user.login_id).where("event", "=", "enrolment.started").executeTakeFirstOrThrow();
    expect(JSON.parse(audit.detail)).toEqual({ sharedMailbox: true });
  });

  it("refuses mismatched fields and keeps what was typed on the page, storing nothing", async () => {
    const { user, client } = await atEnrolment();
    const codesBefore = (await t.deps.db.selectFrom("codes").select("id").execute()).length;
    const refused = await client.post("/enrol", { email: "a@dealer.example", confirmEmail: "b@dealer.example" });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("The two email addresses do not match.");
    expect(refused.body).toContain('value="a@dealer.example"');
    expect((await stored(user.login_id)).pending_email).toBeNull();
    expect((await t.deps.db.selectFrom("codes").select("id").execute()).length).toBe(codesBefore);
  });

  describe("with FAMOS_SHARED_MAILBOX_POLICY=refuse and FAMOS_ALLOWED_EMAIL_DOMAINS=*.dealer.example", () => {
    let strict: TestApp;
    beforeAll(async () => {
      strict = await createTestApp({ env: { FAMOS_SHARED_MAILBOX_POLICY: "refuse", FAMOS_ALLOWED_EMAIL_DOMAINS: "*.dealer.example" } });
    });
    afterAll(async () => strict.close());

    it("refuses a shared mailbox even ticked, and a domain outside the list, then takes a subdomain address", async () => {
      const user = await addUser(strict.deps, { email: null });
      const client = new FormClient(strict.app);
      await submitPassword(client, user.login_id, user.password);
      await client.get("/enrol");
      const shared = await client.post("/enrol", { email: "sales@north.dealer.example", confirmEmail: "sales@north.dealer.example", ownMailbox: "yes" });
      expect(shared.statusCode).toBe(400);
      expect(shared.body).toContain("Use your individually assigned work email address.");
      expect(shared.body).not.toContain("This is my own mailbox</label>");
      const outside = await client.post("/enrol", { email: "jane@dealer.example", confirmEmail: "jane@dealer.example" });
      expect(outside.statusCode).toBe(400);
      expect(outside.body).toContain("addresses at dealer.example are not accepted here");
      expect((await client.post("/enrol", { email: "jane@north.dealer.example", confirmEmail: "jane@north.dealer.example" })).statusCode).toBe(303);
    });
  });
});

/**
 * "Only the newest address entered can be confirmed" across the two ways an account without an OTP
 * email enters one: "User profile" (enrolment) and the Profile tab, which a password-only session
 * ("Later", or before the user's wave) reaches. Red team 2026-12-07: an enrolment voided the Profile
 * flow's code but left the flow open, so Regenerate OTP there mailed a fresh code that made the
 * replaced address the OTP email; and a Profile email change left an enrolment's code live.
 */
describe.each(DIALECTS)("enrolment on %s: beside a Profile email change of an account without an OTP email, and a double click", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_2FA_GRACE_SIGNINS: "3" } });
  });
  afterAll(async () => t?.close());

  const stored = async (loginId: string) => (await findUserByLogin(t.deps.db, loginId))!;
  const liveCodes = (userId: string) =>
    t.deps.db.selectFrom("codes").select("email").where("user_id", "=", userId).where("consumed_at", "is", null).where("voided_at", "is", null).execute();
  const openFlows = (userId: string) => t.deps.db.selectFrom("flows").select(["kind", "email"]).where("user_id", "=", userId).where("finished_at", "is", null).execute();

  /** Browser P: "Later" on "User profile", then the Profile tab's email change to `address` (the password as proof). */
  async function profileChange(user: { login_id: string; password: string }, address: string): Promise<FormClient> {
    const p = new FormClient(t.app);
    expect((await submitPassword(p, user.login_id, user.password)).headers.location).toBe("/enrol");
    await p.get("/enrol");
    expect((await p.post("/enrol/later", {})).headers.location).toBe("/");
    await p.get("/profile");
    const started = await p.post("/profile/email", { newEmail: address, confirmNewEmail: address, password: user.password });
    expect(started.headers.location).toBe("/profile/email/confirm?notice=sent");
    return p;
  }

  it("an enrolment at 'User profile' ends the Profile tab's email change to another address: Regenerate OTP there mails nothing, and it can't become the OTP email", async () => {
    const user = await addUser(t.deps, { email: null });
    const mistyped = `${user.login_id}.smiht@dealer.example`;
    const right = `${user.login_id}.smith@dealer.example`;
    const p = await profileChange(user, mistyped);
    const oldCode = await nextCode(t.smtp, mistyped, 0);

    const { client: e } = await signIn(t, { user: { ...user, otp_email: null }, until: "enrol" });
    const mark = t.smtp.messages.length;
    expect((await e.post("/enrol", { email: right, confirmEmail: right })).statusCode).toBe(303);
    const code = await nextCode(t.smtp, right, mark);

    t.clock.advance(t.config.otp.resendWaitMs);
    await p.get("/profile/email/confirm");
    await p.post("/profile/email/regenerate", {});
    expect(await t.deps.db.selectFrom("outbox").select("id").where("recipient", "=", mistyped).execute()).toHaveLength(1);
    expect(await liveCodes(user.id)).toEqual([{ email: right }]);
    expect(await openFlows(user.id)).toEqual([{ kind: "enrol", email: right }]);
    await p.get("/profile/email/confirm");
    await p.post("/profile/email/confirm", { code: oldCode });
    expect((await stored(user.login_id)).otp_email).toBeNull();

    // The right address still confirms, from the browser that entered it.
    await e.get("/otp");
    expect((await e.post("/otp", { code })).headers.location).toBe("/");
    expect((await stored(user.login_id)).otp_email).toBe(right);
  });

  it("a Profile email change ends the enrolment of another address at 'User profile': its code and Regenerate OTP there confirm nothing", async () => {
    const user = await addUser(t.deps, { email: null });
    const enrolled = `${user.login_id}.enrol@dealer.example`;
    const changed = `${user.login_id}.profile@dealer.example`;
    const { client: e } = await signIn(t, { user: { ...user, otp_email: null }, until: "enrol" });
    expect((await e.post("/enrol", { email: enrolled, confirmEmail: enrolled })).statusCode).toBe(303);
    const oldCode = await nextCode(t.smtp, enrolled, 0);

    const p = await profileChange(user, changed);
    const code = await nextCode(t.smtp, changed, 0);
    expect(await liveCodes(user.id)).toEqual([{ email: changed }]);
    expect(await openFlows(user.id)).toEqual([{ kind: "email-change", email: changed }]);

    t.clock.advance(t.config.otp.resendWaitMs);
    await e.get("/otp");
    await e.post("/otp/regenerate", {});
    expect(await t.deps.db.selectFrom("outbox").select("id").where("recipient", "=", enrolled).execute()).toHaveLength(1);
    await e.get("/otp");
    expect((await e.post("/otp", { code: oldCode })).statusCode).not.toBe(303);
    expect((await stored(user.login_id)).otp_email).toBeNull();

    // The newest address confirms, from the Profile tab that entered it.
    await p.get("/profile/email/confirm");
    expect((await p.post("/profile/email/confirm", { code })).headers.location).toBe("/profile?done=email-changed");
    expect((await stored(user.login_id)).otp_email).toBe(changed);
  });

  // Whatever order the two clicks take (on SQLite the second is mostly stopped by the token the first
  // replaced; on PostgreSQL it mostly reaches the enrolment): one code mailed, and it is live.
  it("a double click on Update over HTTP: both clicks answer 303, one code is mailed, and it is the live one", async () => {
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(t.deps, { email: null });
      const { client } = await signIn(t, { user: { ...user, otp_email: null }, until: "enrol" });
      const address = `${user.login_id}.twice@dealer.example`;
      const answers = await Promise.all([0, 1].map(() => client.post("/enrol", { email: address, confirmEmail: address })));
      expect(answers.map((a) => a.statusCode), `round ${round}`).toEqual([303, 303]);
      expect(await t.deps.db.selectFrom("outbox").select("id").where("recipient", "=", address).execute(), `round ${round}`).toHaveLength(1);
      expect(await liveCodes(user.id)).toEqual([{ email: address }]);
    }
  });
});
