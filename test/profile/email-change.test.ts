import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully } from "../support/client.ts";
import { liveCodeMails } from "../support/mailbox.ts";
import { extractCode } from "../support/smtp.ts";

const CHANGED_SUBJECT = "Your FAMOS one time passcode email was changed";

describe.each(["sqlite", "postgres"] as const)("Profile: change the OTP email (SPEC item 6) on %s", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  async function signedInUser(email: string) {
    const user = await addUser(t.deps, { email });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    return { user, client };
  }

  it("shows login ID, name, partner number and OTP email, and both forms with the SPEC labels", async () => {
    const { user, client } = await signedInUser("facts@dealer.example");
    const page = (await client.get("/profile")).body;
    for (const text of [user.login_id, "Jane Smith", "01234", "facts@dealer.example", "New email address", "Confirm new email address", "Send code",
      "Current password", "New password", "Confirm new password", "Change password"]) {
      expect(page).toContain(text);
    }
    // A code was confirmed moments ago: no password is asked for the email change.
    expect(page).not.toContain('name="password"');
  });

  it("keeps sending sign-in codes to the old address until the new one is confirmed, then tells the old address", async () => {
    const { user, client } = await signedInUser("old.one@dealer.example");
    const before = t.smtp.messages.length;
    const started = await client.post("/profile/email", { newEmail: "new.one@dealer.example", confirmNewEmail: "New.One@dealer.example" });
    expect(started.statusCode).toBe(303);
    expect(started.headers.location).toBe("/profile/email/confirm?notice=sent");
    const changeCode = await nextCode(t.smtp, "new.one@dealer.example", before);
    const confirmPage = await client.get("/profile/email/confirm");
    expect(confirmPage.body).toContain("Please enter the received code");
    expect(confirmPage.body).toContain("n•••@dealer.example");

    // Meanwhile, a sign-in elsewhere still gets its code at the old address, and works.
    const other = new FormClient(t.app, "10.0.0.9");
    await signInFully(other, t.smtp, { ...user, otp_email: "old.one@dealer.example" });
    expect((await other.get("/profile")).statusCode).toBe(200);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("old.one@dealer.example");

    const confirmed = await client.post("/profile/email/confirm", { code: changeCode });
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe("/profile?done=email-changed");
    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.otp_email).toBe("new.one@dealer.example");
    expect(stored.pending_email).toBeNull();

    const notice = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("old.one@dealer.example") && m.subject === CHANGED_SUBJECT);
    expect(notice.text).toContain(user.login_id);
    expect(notice.text).toContain("n•••@dealer.example");
    expect(notice.text).toContain("If you did not make this change");
    expect(notice.text).toContain("retailit@famos.test");

    // The other session ended; this one goes on (with a new token).
    const otherPage = await other.get("/profile");
    expect(otherPage.statusCode).toBe(303);
    expect((await client.get("/profile")).body).toContain("new.one@dealer.example");

    // The next sign-in's code goes to the new address.
    const next = new FormClient(t.app);
    await signInFully(next, t.smtp, { ...user, otp_email: "new.one@dealer.example" });

    const events = (await queryAudit(t.deps.db, { subject: user.login_id })).map((e) => e.event);
    expect(events).toContain("email.change-started");
    expect(events).toContain("email.changed");
  });

  it("asks for the password again when no code was confirmed in the last 15 minutes", async () => {
    const { user, client } = await signedInUser("stale@dealer.example");
    t.clock.advance(16 * 60_000);
    const page = await client.get("/profile");
    expect(page.body).toContain('name="password"');
    const before = t.smtp.messages.length;

    const without = await client.post("/profile/email", { newEmail: "fresh@dealer.example", confirmNewEmail: "fresh@dealer.example" });
    expect(without.statusCode).toBe(401);
    expect(without.body).toContain("enter your password");
    const wrong = await client.post("/profile/email", { newEmail: "fresh@dealer.example", confirmNewEmail: "fresh@dealer.example", password: "not my password at all" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("The password is not right");
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBeNull();
    const flows = await t.deps.db.selectFrom("flows").select("kind").where("user_id", "=", user.id).execute();
    expect(flows.map((f) => f.kind)).toEqual(["signin"]);

    const right = await client.post("/profile/email", { newEmail: "fresh@dealer.example", confirmNewEmail: "fresh@dealer.example", password: user.password });
    expect(right.statusCode).toBe(303);
    await nextCode(t.smtp, "fresh@dealer.example", before);
    const failures = await queryAudit(t.deps.db, { subject: user.login_id, event: "password.failed" });
    expect(failures[0]!.detail).toMatchObject({ during: "email-change" });
  });

  it("applies the enrolment rules and changes nothing on bad input", async () => {
    const { user, client } = await signedInUser("rules@dealer.example");
    const mismatch = await client.post("/profile/email", { newEmail: "a@dealer.example", confirmNewEmail: "b@dealer.example" });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain("do not match");
    const invalid = await client.post("/profile/email", { newEmail: "not an address", confirmNewEmail: "not an address" });
    expect(invalid.statusCode).toBe(400);
    const same = await client.post("/profile/email", { newEmail: "RULES@dealer.example", confirmNewEmail: "rules@dealer.example" });
    expect(same.statusCode).toBe(400);
    expect(same.body).toContain("already your OTP email");
    const shared = await client.post("/profile/email", { newEmail: "sales@dealer.example", confirmNewEmail: "sales@dealer.example" });
    expect(shared.statusCode).toBe(400);
    expect(shared.body).toContain("This is my own mailbox");
    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.pending_email).toBeNull();
    expect(stored.otp_email).toBe("rules@dealer.example");
  });

  it("counts a wrong code, and Cancel leaves the OTP email as it was", async () => {
    const { user, client } = await signedInUser("cancel@dealer.example");
    const before = t.smtp.messages.length;
    await client.post("/profile/email", { newEmail: "cancel.new@dealer.example", confirmNewEmail: "cancel.new@dealer.example" });
    const code = await nextCode(t.smtp, "cancel.new@dealer.example", before);
    await client.get("/profile/email/confirm");
    const wrong = await client.post("/profile/email/confirm", { code: code === "000000" ? "111111" : "000000" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("4 tries left");
    const cancelled = await client.post("/profile/email/cancel");
    expect(cancelled.headers.location).toBe("/profile?done=email-cancelled");
    // After Cancel (answered before Confirm's request started, as a tab left open): the right code or a
    // wrong one no longer works, counts nothing more and writes no code.failed, and the page says the
    // change was cancelled (its own code.cancelled in the trail; before, Profile with nothing said).
    const counted = async () => {
      const info = await accountLockInfo(t.deps, user.login_key, t.deps.clock.now());
      return [info.codeFailures + info.devices.reduce((sum, d) => sum + d.failures, 0), (await queryAudit(t.deps.db, { subject: user.login_id, event: "code.failed" })).length];
    };
    const counts = await counted();
    expect(counts[1]).toBe(1);
    for (const typed of [code, code === "000000" ? "111111" : "000000"]) {
      const late = await client.post("/profile/email/confirm", { code: typed });
      expect(late.headers.location).toBe("/profile?done=email-cancelled");
      expect((await client.get(late.headers.location!)).body).toContain("The email change was cancelled.");
    }
    expect(await counted()).toEqual(counts);
    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.otp_email).toBe("cancel@dealer.example");
    expect(stored.pending_email).toBeNull();
  });

  it("the code page opened again after the change's code expired says so and points to Regenerate OTP", async () => {
    const { client } = await signedInUser("lapse.old@dealer.example");
    await client.post("/profile/email", { newEmail: "lapse.new@dealer.example", confirmNewEmail: "lapse.new@dealer.example" });
    expect((await client.get("/profile/email/confirm")).body).not.toContain("This code has expired.");
    t.clock.advance(15 * 60_000 + 1000);
    const reloaded = await client.get("/profile/email/confirm");
    expect(reloaded.statusCode).toBe(200);
    expect(reloaded.body).toContain("This code has expired. Use Regenerate OTP to get a new one.");
  });

  it("binds the change to the session that started it: another session of the user cannot confirm it", async () => {
    const { user, client } = await signedInUser("bound@dealer.example");
    const second = new FormClient(t.app);
    await signInFully(second, t.smtp, user);
    await client.get("/profile");
    const before = t.smtp.messages.length;
    await client.post("/profile/email", { newEmail: "bound.new@dealer.example", confirmNewEmail: "bound.new@dealer.example" });
    const code = await nextCode(t.smtp, "bound.new@dealer.example", before);
    await second.get("/profile");
    const elsewhere = await second.post("/profile/email/confirm", { code });
    // Profile, claiming a cancellation the records do not hold: no words.
    expect(elsewhere.headers.location).toBe("/profile?done=email-cancelled");
    expect((await second.get(elsewhere.headers.location!)).body).not.toContain("The email change was cancelled.");
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("bound@dealer.example");
  });

  // On PostgreSQL both requests read the session before either commits (on SQLite in one process the
  // second may read it after, and replaces the first as a resend does): either way one change is open,
  // with one live code, the session's, and it confirms.
  it("a double click on Send code over HTTP: both clicks land on the code page, one change is open with one live code, and it confirms", async () => {
    for (let round = 0; round < 5; round += 1) {
      const { user, client } = await signedInUser(`twice.old.${round}@dealer.example`);
      const address = `twice.new.${round}@dealer.example`;
      const answers = await Promise.all([0, 1].map(() => client.post("/profile/email", { newEmail: address, confirmNewEmail: address })));
      expect(answers.map((a) => a.statusCode), `round ${round}`).toEqual([303, 303]);
      expect(answers.map((a) => String(a.headers.location).split("?")[0]), `round ${round}`).toEqual(["/profile/email/confirm", "/profile/email/confirm"]);
      const open = await t.deps.db.selectFrom("flows").select("id").where("user_id", "=", user.id).where("kind", "=", "email-change").where("finished_at", "is", null).execute();
      expect(open, `round ${round}`).toHaveLength(1);
      const live = await liveCodeMails(t.deps.db, user.id);
      expect(live.map((c) => c.flow_id), `round ${round}`).toEqual([open[0]!.id]);
      const bare = (id: string) => id.replace(/[<>]/g, "");
      const mail = await t.smtp.waitForMessage((m) => bare(m.messageId) === bare(live[0]!.message_id));
      await client.get("/profile/email/confirm");
      const confirmed = await client.post("/profile/email/confirm", { code: extractCode(mail.text) });
      expect(confirmed.headers.location, `round ${round}`).toBe("/profile?done=email-changed");
      expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe(address);
    }
  });

  // As Send code's: on PostgreSQL both Cancels read the change open before either commits; the later
  // finds the session moved off it, writes nothing and follows the session (on SQLite it may read the
  // change cancelled already). Either way the pages say "cancelled" as often as the trail records a
  // cancellation: once.
  it("a double click on Cancel over HTTP: one cancellation, said once, and the OTP email as it was", async () => {
    for (let round = 0; round < 5; round += 1) {
      const { user, client } = await signedInUser(`cancel.old.${round}@dealer.example`);
      const address = `cancel.new.${round}@dealer.example`;
      await client.post("/profile/email", { newEmail: address, confirmNewEmail: address });
      await client.get("/profile/email/confirm");
      const answers = await Promise.all([0, 1].map(() => client.post("/profile/email/cancel", {})));
      expect(answers.map((a) => a.statusCode), `round ${round}`).toEqual([303, 303]);
      const said = answers.filter((a) => a.headers.location === "/profile?done=email-cancelled").length;
      const others = answers.filter((a) => a.headers.location !== "/profile?done=email-cancelled").map((a) => a.headers.location);
      // The later click: moved (its read came first), or no change left open (its read came after).
      expect(others.every((location) => location === "/profile/email/confirm" || location === "/profile"), `round ${round}`).toBe(true);
      expect((await queryAudit(t.deps.db, { subject: user.login_id, event: "code.cancelled" })).length, `round ${round}`).toBe(1);
      expect(said, `round ${round}`).toBe(1);
      expect(await findUserById(t.deps.db, user.id), `round ${round}`).toMatchObject({ otp_email: `cancel.old.${round}@dealer.example`, pending_email: null });
    }
  });

  it("refuses a form carrying another user's id (no IDOR) and changes nothing", async () => {
    const victim = await addUser(t.deps, { email: "victim@dealer.example" });
    const { client } = await signedInUser("attacker@dealer.example");
    const forged = await client.post("/profile/email", { newEmail: "evil@dealer.example", confirmNewEmail: "evil@dealer.example", userId: victim.id });
    expect(forged.statusCode).toBe(400);
    const stored = (await findUserById(t.deps.db, victim.id))!;
    expect(stored.pending_email).toBeNull();
    expect(stored.otp_email).toBe("victim@dealer.example");
  });
});
