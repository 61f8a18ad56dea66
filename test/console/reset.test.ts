import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";

const RESET_SUBJECT = "Your FAMOS one time passcode email was reset";

/** SPEC item 8: the "OTP email reset" from the guide, handled in the console. */
describe.each(["sqlite", "postgres"] as const)("support console: reset the OTP email (%s)", (database) => {
  let t: TestApp;
  let supportClient: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database });
    const support = await addUser(t.deps, { role: "support", loginId: "helpdesk.anna" });
    supportClient = new FormClient(t.app, "10.1.1.1");
    await signInFully(supportClient, t.smtp, support);
  });
  afterAll(async () => t.close());

  async function resetTarget(email: string) {
    return addUser(t.deps, { fullName: "Jane  Mary Smith", partnerNumber: "01234", email });
  }

  it("refuses a wrong name, login ID or partner number and changes nothing", async () => {
    const user = await resetTarget("keep.me@dealer.example");
    const live = new FormClient(t.app);
    await signInFully(live, t.smtp, user);
    await supportClient.get(`/support/users/${user.id}`);
    const mailsBefore = t.smtp.messages.length;
    const right = { name: "Jane Mary Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC100" };
    const wrongs: [Record<string, string>, string][] = [
      [{ ...right, name: "Jane Smith" }, "The name does not match"],
      [{ ...right, loginId: `${user.login_id}x` }, "The login ID does not match"],
      [{ ...right, partnerNumber: "1234" }, "The partner number does not match"],
      [{ ...right, partnerNumber: "01234 5" }, "The partner number does not match"],
      // Each beside its field, both at once.
      [{ ...right, name: "John Smith", partnerNumber: "9" }, '<p class="field-problem" id="name-problem">The name does not match the account.</p>'],
      [{ ...right, name: "John Smith", partnerNumber: "9" }, '<p class="field-problem" id="partnerNumber-problem">The partner number does not match the account.</p>'],
      [{ ...right, name: "John Smith", ticket: "" }, '<p class="field-problem" id="ticket-problem">Enter the ticket reference'],
      [{ ...right, ticket: "  " }, "ticket reference"],
      // A C1 control (U+009B is a one-byte CSI to many terminals) is refused as the login ID's and name's rule refuses it.
      [{ ...right, ticket: "INC\u009b2J" }, "ticket reference"],
      // A bidirectional control (U+202E reverses what follows in the mail and the audit trail) or a zero-width character.
      [{ ...right, ticket: "INC-77\u202e" }, "The ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)."],
      [{ ...right, ticket: "INC\u200b77" }, "The ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)."],
    ];
    for (const [fields, text] of wrongs) {
      for (const url of [`/support/users/${user.id}/reset`, `/support/users/${user.id}/reset/confirm`]) {
        const response = await supportClient.post(url, fields);
        expect(response.statusCode, `${url} ${text}`).toBe(400);
        expect(response.body).toContain(text);
      }
    }
    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.otp_email).toBe("keep.me@dealer.example");
    expect((await live.get("/profile")).statusCode).toBe(200);
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "email.reset" })).toHaveLength(0);
    expect(t.smtp.messages.slice(mailsBefore).filter((m) => m.subject === RESET_SUBJECT)).toHaveLength(0);
  });

  it("an over-long ticket posted directly (the field's maxlength is 64) gets the ticket's own reason and the form again, 400, whatever its length up to the body cap; the other fields keep their cap", async () => {
    const TICKET_PROBLEM = "Enter the ticket reference of the request (1 to 64 characters).";
    const user = await resetTarget("keep.long@dealer.example");
    await supportClient.get(`/support/users/${user.id}`);
    const right = { name: "Jane Mary Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC100" };
    for (const ticket of ["T".repeat(65), "T".repeat(201), "T".repeat(10_000)]) {
      for (const url of [`/support/users/${user.id}/reset`, `/support/users/${user.id}/reset/confirm`]) {
        const response = await supportClient.post(url, { ...right, ticket });
        expect(response.statusCode, `${url} ${ticket.length}`).toBe(400);
        expect(response.body, `${url} ${ticket.length}`).toContain(`<p class="field-problem" id="ticket-problem">${TICKET_PROBLEM}</p>`);
        expect(response.body).toContain(`value="${ticket}"`);
        expect(response.body).not.toContain("is too long");
      }
    }
    // Another field over its cap is still refused by the form's parser, and a body over 16 KiB by the server.
    const longName = await supportClient.post(`/support/users/${user.id}/reset`, { ...right, name: "N".repeat(201) });
    expect(longName.statusCode).toBe(400);
    expect(longName.body).toMatch(/The value of “Name” is too long\./);
    expect((await supportClient.post(`/support/users/${user.id}/reset`, { ...right, ticket: "T".repeat(17_000) })).statusCode).toBe(413);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("keep.long@dealer.example");
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "email.reset" })).toHaveLength(0);
  });

  it("matches the name without regard to case and runs of spaces, and the login ID without regard to case", async () => {
    const user = await resetTarget("loose.match@dealer.example");
    await supportClient.get(`/support/users/${user.id}`);
    const response = await supportClient.post(`/support/users/${user.id}/reset`, {
      name: "  jane MARY   smith ", loginId: user.login_id.toUpperCase(), partnerNumber: " 01234 ", ticket: "INC101",
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("Confirm reset");
    // Nothing happens before the confirmation.
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("loose.match@dealer.example");
  });

  it("ends the live session, voids a pending code, tells the old address, and brings User profile at the next sign-in", async () => {
    const user = await resetTarget("lost.inbox@dealer.example");
    const live = new FormClient(t.app, "10.2.2.2");
    await signInFully(live, t.smtp, user);
    const liveCookie = live.cookieHeader();
    // A second sign-in waits at OTP capture with a code on its way.
    const pending = new FormClient(t.app, "10.3.3.3");
    const before = t.smtp.messages.length;
    await submitPassword(pending, user.login_id, user.password);
    await pending.get("/otp"); // as the browser follows the password step (its forms carry this page's token)
    const pendingCode = await nextCode(t.smtp, "lost.inbox@dealer.example", before);

    await supportClient.get(`/support/users/${user.id}`);
    const fields = { name: "Jane Mary Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-2026-0042" };
    const confirm = await supportClient.post(`/support/users/${user.id}/reset`, fields);
    expect(confirm.statusCode).toBe(200);
    const done = await supportClient.post(`/support/users/${user.id}/reset/confirm`, fields);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/support/users/${user.id}?done=reset`);
    const page = await supportClient.get(done.headers.location!);
    expect(page.body).toContain("The OTP email was reset");
    expect(page.body).toContain("None: the user enters an address at the next sign-in");

    const stored = (await findUserById(t.deps.db, user.id))!;
    expect(stored.otp_email).toBeNull();
    expect(stored.pending_email).toBeNull();
    // The live session's cookie no longer works.
    const replay = await t.app.inject({ method: "GET", url: "/profile", headers: { cookie: liveCookie } });
    expect(replay.statusCode).toBe(303);
    expect(replay.headers.location).toMatch(/^\/login/);
    // The pending code is void (its session ended too).
    await pending.get("/otp");
    const late = await pending.post("/otp", { code: pendingCode });
    expect(late.statusCode).toBe(303);
    expect(late.headers.location).toMatch(/^\/login/);
    const codes = await t.deps.db.selectFrom("codes").select(["voided_at", "void_reason", "consumed_at"]).where("user_id", "=", user.id).execute();
    expect(codes.filter((c) => c.voided_at === null && c.consumed_at === null)).toHaveLength(0);
    expect(codes.some((c) => c.void_reason === "reset")).toBe(true);

    const notice = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("lost.inbox@dealer.example") && m.subject === RESET_SUBJECT);
    expect(notice.text).toContain("INC-2026-0042");
    expect(notice.text).toContain("User profile");

    const next = new FormClient(t.app);
    const signIn = await submitPassword(next, user.login_id, user.password);
    expect(signIn.headers.location).toBe("/enrol");
    expect((await next.get("/enrol")).body).toContain("User profile");

    const [event] = await queryAudit(t.deps.db, { subject: user.login_id, event: "email.reset" });
    expect(event!.actor).toBe("helpdesk.anna");
    expect(event!.ip).toBe("10.1.1.1");
    expect(event!.detail).toMatchObject({ ticket: "INC-2026-0042", previousEmail: "lost.inbox@dealer.example", sessionsEnded: 2 });
  });

  it("a confirm left open while a colleague reset the same user says that no address was told, not that the old one was", async () => {
    const user = await resetTarget("two.desks@dealer.example");
    const colleague = await addUser(t.deps, { role: "support", loginId: "helpdesk.ben" });
    const ben = new FormClient(t.app, "10.1.1.2");
    await signInFully(ben, t.smtp, colleague);
    const fields = { name: "Jane Mary Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-9" };
    // Both reach "Confirm reset"; Ben confirms first, Anna's page is stale.
    await supportClient.get(`/support/users/${user.id}`);
    expect((await supportClient.post(`/support/users/${user.id}/reset`, fields)).statusCode).toBe(200);
    await ben.get(`/support/users/${user.id}`);
    const first = await ben.post(`/support/users/${user.id}/reset/confirm`, fields);
    expect((await ben.get(first.headers.location!)).body).toContain("the old address was told");
    const second = await supportClient.post(`/support/users/${user.id}/reset/confirm`, fields);
    expect(second.statusCode).toBe(303);
    const page = (await supportClient.get(second.headers.location!)).body;
    expect(page).not.toContain("the old address was told");
    expect(page).toContain("The account had no confirmed OTP email, so no address was told");
    const told = await t.deps.db.selectFrom("outbox").select("recipient").where("user_id", "=", user.id).where("kind", "=", "notice.email-reset").execute();
    expect(told).toEqual([{ recipient: "two.desks@dealer.example" }]);
  });

  it("a confirm sent after the support session went idle does nothing, and the sign-in page it leads to says so", async () => {
    const user = await resetTarget("idle.desk@dealer.example");
    const desk = new FormClient(t.app, "10.1.1.3");
    await signInFully(desk, t.smtp, await addUser(t.deps, { role: "support", loginId: "helpdesk.cal" }));
    const fields = { name: "Jane Mary Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-31" };
    await desk.get(`/support/users/${user.id}`);
    expect((await desk.post(`/support/users/${user.id}/reset`, fields)).statusCode).toBe(200);
    t.clock.advance(31 * 60_000); // on the phone longer than FAMOS_SESSION_IDLE
    const late = await desk.post(`/support/users/${user.id}/reset/confirm`, fields);
    t.clock.advance(-31 * 60_000);
    expect(late.statusCode).toBe(303);
    expect(late.headers.location).toBe("/login?ended=form");
    expect((await desk.get(late.headers.location!)).body).toContain("Your session ended before FAMOS received the form, so nothing was done: sign in and do it again.");
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("idle.desk@dealer.example");
    // Without any session cookie (never signed in), a form still goes to the plain sign-in page.
    const stranger = await t.app.inject({ method: "POST", url: `/support/users/${user.id}/unlock`, payload: {} });
    expect(stranger.headers.location ?? "").not.toContain("ended=");
  });

  it("resets an account whose address is still pending, without mailing the unconfirmed address", async () => {
    const user = await addUser(t.deps, { fullName: "Pen Ding", partnerNumber: "5", email: null });
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    await client.get("/enrol");
    const before = t.smtp.messages.length;
    await client.post("/enrol", { email: "typo@dealer.exmaple", confirmEmail: "typo@dealer.exmaple" });
    await nextCode(t.smtp, "typo@dealer.exmaple", before);
    await supportClient.get(`/support/users/${user.id}`);
    expect((await supportClient.get(`/support/users/${user.id}`)).body).toContain("Pending: t•••@dealer.exmaple is waiting for its code");
    const fields = { name: "pen ding", loginId: user.login_id, partnerNumber: "5", ticket: "INC7" };
    expect((await supportClient.post(`/support/users/${user.id}/reset/confirm`, fields)).statusCode).toBe(303);
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBeNull();
    const outbox = await t.deps.db.selectFrom("outbox").select("kind").where("user_id", "=", user.id).execute();
    expect(outbox.map((m) => m.kind)).toEqual(["code.enrol"]);
  });
});
