import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eraseUser } from "../../src/account/erase.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { addUser, type TestApp } from "../support/app.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";
import { openTemporaryPasswordForm } from "../support/temporary-password-form.ts";

/** Issue 11, item 5: the console's lifecycle actions, under acting.ts's rule. */
describe.each(["sqlite", "postgres"] as const)("console: disable, enable, create a user, the Disabled filter (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  let admin: FormClient;
  beforeAll(async () => {
    ({ t, support, admin } = await consoleWithStaff(database, { support: "sup.life", admin: "adm.life" }));
  });
  afterAll(async () => t?.close());

  it("disables and enables a user, and the Disabled filter lists only the disabled", async () => {
    const leaver = await addUser(t.deps, { loginId: "con.leaver", partnerNumber: "7700" });
    await addUser(t.deps, { loginId: "con.stayer", partnerNumber: "7700" });
    const live = new FormClient(t.app);
    await signInFully(live, t.smtp, leaver);
    await support.get(`/support/users/${leaver.id}`);
    const disabled = await support.post(`/support/users/${leaver.id}/disable`);
    expect(disabled.headers.location).toBe(`/support/users/${leaver.id}?done=disabled`);
    const page = (await support.get(disabled.headers.location as string)).body;
    expect(page).toContain("Disabled since");
    // Signed in fully, the leaver had no pending code: the page does not say any was voided.
    expect(page).toContain("The account was disabled: the user cannot sign in (1 session ended).");
    expect((await live.get("/profile")).statusCode).toBe(303);

    const filtered = await support.get("/support?q=7700&disabled=yes");
    expect(filtered.body).toContain("con.leaver");
    expect(filtered.body).not.toContain("con.stayer");
    expect((await support.get("/support?disabled=yes")).body).toContain("con.leaver");
    expect((await support.get("/support?q=7700")).body).toContain("con.stayer");

    await support.get(`/support/users/${leaver.id}`);
    expect((await support.post(`/support/users/${leaver.id}/enable`)).headers.location).toContain("done=enabled");
    expect((await submitPassword(new FormClient(t.app), leaver.login_id, leaver.password)).headers.location).toBe("/otp");
    const events = (await queryAudit(t.deps.db, { subject: "con.leaver" })).map((e) => [e.event, e.actor]);
    expect(events).toEqual(expect.arrayContaining([["user.disabled", "sup.life"], ["user.enabled", "sup.life"]]));
  });

  it("enabling a leaver whose OTP email a colleague has since confirmed says the address is shared now (Needs attention lists it); a crafted done=enabled says it only when true", async () => {
    const leaver = await addUser(t.deps, { loginId: "con.back", email: "desk.back@dealer.example" });
    await support.get(`/support/users/${leaver.id}`);
    await support.post(`/support/users/${leaver.id}/disable`);
    const successor = await addUser(t.deps, { loginId: "con.successor", email: "Desk.Back@dealer.example" });
    expect((await support.get("/support/attention")).body).not.toContain(">con.successor</a>");
    await support.get(`/support/users/${leaver.id}`);
    const enabled = await support.post(`/support/users/${leaver.id}/enable`);
    const page = (await support.get(enabled.headers.location as string)).body;
    expect(page).toContain("The account was enabled: the user can sign in again.");
    expect(page).toContain("Its OTP email is also the OTP email of another enabled login ID");
    expect((await support.get("/support/attention")).body).toContain(">con.successor</a>");
    // The same page for an enable whose address nobody else holds says nothing of it.
    expect((await support.get(`/support/users/${successor.id}?done=enabled`)).body).toContain("Its OTP email is also");
    const alone = await addUser(t.deps, { loginId: "con.alone", email: "alone.back@dealer.example" });
    expect((await support.get(`/support/users/${alone.id}?done=enabled`)).body).not.toContain("Its OTP email is also");
  });

  it("the page after a disable says how many pending codes were voided, and only when some were", async () => {
    const midway = await addUser(t.deps, { loginId: "con.midway", email: "con.midway@dealer.example" });
    expect((await submitPassword(new FormClient(t.app), midway.login_id, midway.password)).headers.location).toBe("/otp");
    await support.get(`/support/users/${midway.id}`);
    const disabled = await support.post(`/support/users/${midway.id}/disable`);
    expect(disabled.headers.location).toBe(`/support/users/${midway.id}?done=disabled`);
    expect((await support.get(disabled.headers.location as string)).body).toMatch(/the user cannot sign in \(\d+ sessions? ended, 1 pending code voided\)\./);
  });

  it("counts in a crafted query string are not said: the page reads a disable's counts from its audit event, and says nothing of one for an enabled user", async () => {
    const held = await addUser(t.deps, { loginId: "con.crafted", email: "con.crafted@dealer.example" });
    // Enabled: a link claiming a disable (with counts, or without) says nothing of one.
    for (const query of ["?done=disabled&sessions=7&codes=9", "?done=disabled"]) {
      const page = (await support.get(`/support/users/${held.id}${query}`)).body;
      expect(page).not.toContain("The account was disabled");
      expect(page).not.toContain("7 sessions ended");
    }
    expect((await submitPassword(new FormClient(t.app), held.login_id, held.password)).headers.location).toBe("/otp");
    await support.get(`/support/users/${held.id}`);
    const disabled = await support.post(`/support/users/${held.id}/disable`);
    expect(disabled.headers.location).toBe(`/support/users/${held.id}?done=disabled`);
    // Disabled: the counts are the disable's own, whatever the link says.
    for (const query of ["?done=disabled&sessions=7&codes=9", "?done=disabled"]) {
      const page = (await support.get(`/support/users/${held.id}${query}`)).body;
      expect(page).toMatch(/the user cannot sign in \(\d+ sessions? ended, 1 pending code voided\)\./);
      expect(page).not.toContain("7 sessions ended");
    }
  });

  it("support may not disable an administrator or themselves, nor set an administrator's temporary password", async () => {
    const other = await addUser(t.deps, { role: "admin", loginId: "con.admin" });
    const self = await findUserByLogin(t.deps.db, "sup.life");
    await support.get("/support");
    for (const url of [`/support/users/${other.id}/disable`, `/support/users/${self!.id}/disable`]) {
      expect((await support.post(url)).statusCode, url).toBe(403);
    }
    expect((await support.get(`/support/users/${other.id}/temporary-password`)).statusCode).toBe(403);
    expect((await support.get(`/support/users/${other.id}`)).body).not.toContain(">Disable<");
    expect((await findUserByLogin(t.deps.db, "con.admin"))!.disabled_at).toBeNull();
  });

  it("support may not set a temporary password for another support account (with the reset it would hand over the peer's account); an administrator may", async () => {
    const REFUSED = "Only an administrator can set a temporary password for a support account.";
    const peer = await addUser(t.deps, { role: "support", loginId: "con.peer", fullName: "Pat Peer", partnerNumber: "7702", email: "con.peer@famos.test" });
    const peerClient = new FormClient(t.app);
    await signInFully(peerClient, t.smtp, peer);
    const identity = { name: "Pat Peer", loginId: "con.peer", partnerNumber: "7702", ticket: "INC-PEER" };
    const notices = async () => (await t.deps.db.selectFrom("outbox").select("kind").where("user_id", "=", peer.id).where("kind", "=", "notice.temporary-password").execute()).length;
    const setEvents = async () => (await queryAudit(t.deps.db, { subject: "con.peer", event: "password.temporary-set" })).length;

    // The user's page explains instead of offering the form; the peer's other actions stay.
    const page = await support.get(`/support/users/${peer.id}`);
    expect(page.body).toContain(REFUSED);
    expect(page.body).not.toContain(`/support/users/${peer.id}/temporary-password`);
    expect(page.body).toContain(`/support/users/${peer.id}/reset`);
    expect(page.body).toContain(`/support/users/${peer.id}/unlock`);
    // Each step refuses, the confirmation too, with the reason.
    for (const answer of [
      await support.get(`/support/users/${peer.id}/temporary-password`),
      await support.post(`/support/users/${peer.id}/temporary-password`, identity),
      await support.post(`/support/users/${peer.id}/temporary-password/confirm`, identity),
    ]) {
      expect(answer.statusCode).toBe(403);
      expect(answer.body).toContain(REFUSED);
      expect(answer.body).not.toContain('class="secret"');
    }
    const after = (await findUserByLogin(t.deps.db, "con.peer"))!;
    expect(after.password_hash).toBe(peer.password_hash);
    expect(after.password_temporary_until).toBeNull();
    expect(await setEvents()).toBe(0);
    expect(await notices()).toBe(0);
    expect((await peerClient.get("/profile")).statusCode).toBe(200);

    // An administrator may: the page offers it, and it is set, audited, told and ends the peer's sessions.
    expect((await admin.get(`/support/users/${peer.id}`)).body).toContain(`/support/users/${peer.id}/temporary-password`);
    const formStamp = await openTemporaryPasswordForm(admin, peer.id);
    expect((await admin.post(`/support/users/${peer.id}/temporary-password`, { ...identity, formStamp })).statusCode).toBe(200);
    const shown = await admin.post(`/support/users/${peer.id}/temporary-password/confirm`, { ...identity, formStamp });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain('class="secret"');
    const set = (await findUserByLogin(t.deps.db, "con.peer"))!;
    expect(set.password_hash).not.toBe(peer.password_hash);
    expect(set.password_temporary_until).not.toBeNull();
    expect(await queryAudit(t.deps.db, { subject: "con.peer", event: "password.temporary-set" })).toEqual([expect.objectContaining({ actor: "adm.life" })]);
    expect(await notices()).toBe(1);
    expect((await peerClient.get("/profile")).statusCode).toBe(303);
  });

  it("support may not disable, enable or erase another support account (each step 403, nothing changed); an administrator may; support still disables a plain user", async () => {
    const REFUSED = "Only an administrator can disable, enable or erase a support account.";
    const peer = await addUser(t.deps, { role: "support", loginId: "con.peer2", partnerNumber: "7703" });
    const peerClient = new FormClient(t.app);
    await signInFully(peerClient, t.smtp, peer);
    const self = (await findUserByLogin(t.deps.db, "sup.life"))!;
    const supportActing = { user: self, audit: { actor: self.login_id, ip: "192.0.2.9", userAgent: "lifecycle-test" } };
    const lifecycleEvents = async () => (await queryAudit(t.deps.db, { subject: "con.peer2" })).map((e) => e.event).filter((e) => e.startsWith("user."));
    const liveSessions = async () => (await t.deps.db.selectFrom("sessions").select("id").where("user_id", "=", peer.id).where("ended_at", "is", null).execute()).length;
    const sessionsBefore = await liveSessions();
    expect(sessionsBefore).toBeGreaterThan(0);

    // The user's page says why where the Disable button would be; reset and unlock stay.
    const page = await support.get(`/support/users/${peer.id}`);
    expect(page.body).toContain(REFUSED);
    expect(page.body).not.toContain(`/support/users/${peer.id}/disable`);
    expect(page.body).toContain(`/support/users/${peer.id}/reset`);
    expect(page.body).toContain(`/support/users/${peer.id}/unlock`);
    const refusedDisable = await support.post(`/support/users/${peer.id}/disable`);
    expect(refusedDisable.statusCode).toBe(403);
    expect(refusedDisable.body).toContain(REFUSED);
    expect(await eraseUser(t.deps, supportActing, peer.id)).toEqual({ kind: "forbidden", reason: "support-account", message: REFUSED });
    const untouched = (await findUserByLogin(t.deps.db, "con.peer2"))!;
    expect(untouched.disabled_at).toBeNull();
    expect(untouched.updated_at).toBe(peer.updated_at);
    expect(await liveSessions()).toBe(sessionsBefore);
    expect(await lifecycleEvents()).toEqual([]);
    expect((await peerClient.get("/profile")).statusCode).toBe(200);

    // Nor remove the peer's second factors (here a recovery code), on PostgreSQL as on SQLite.
    const FACTORS_REFUSED = "Only an administrator can remove a support account&#39;s second factors."; // as the page escapes it
    await t.deps.db.insertInto("recovery_codes").values({ id: "rc-con-peer2", user_id: peer.id, code_hash: "h", created_at: peer.created_at, used_at: null }).execute();
    expect((await support.get(`/support/users/${peer.id}`)).body).toContain(FACTORS_REFUSED);
    for (const answer of [await support.post(`/support/users/${peer.id}/factors`, {}), await support.post(`/support/users/${peer.id}/factors/confirm`, { ticket: "INC-PEER" })]) {
      expect(answer.statusCode).toBe(403);
      expect(answer.body).toContain(FACTORS_REFUSED);
    }
    expect(await t.deps.db.selectFrom("recovery_codes").select("id").where("user_id", "=", peer.id).execute()).toEqual([{ id: "rc-con-peer2" }]);
    expect(await queryAudit(t.deps.db, { subject: "con.peer2", event: "factors.removed" })).toEqual([]);
    expect(await liveSessions()).toBe(sessionsBefore);

    // Disabled by an administrator, support may not enable the peer either.
    await admin.get(`/support/users/${peer.id}`);
    expect((await admin.post(`/support/users/${peer.id}/disable`)).headers.location).toBe(`/support/users/${peer.id}?done=disabled`);
    const disabledAt = (await findUserByLogin(t.deps.db, "con.peer2"))!.disabled_at;
    expect(disabledAt).not.toBeNull();
    const disabledPage = await support.get(`/support/users/${peer.id}`);
    expect(disabledPage.body).toContain(REFUSED);
    expect(disabledPage.body).not.toContain(`/support/users/${peer.id}/enable`);
    const refusedEnable = await support.post(`/support/users/${peer.id}/enable`);
    expect(refusedEnable.statusCode).toBe(403);
    expect(refusedEnable.body).toContain(REFUSED);
    expect((await findUserByLogin(t.deps.db, "con.peer2"))!.disabled_at).toBe(disabledAt);
    expect(await lifecycleEvents()).toEqual(["user.disabled"]);
    expect((await submitPassword(new FormClient(t.app), peer.login_id, peer.password)).headers.location).not.toBe("/otp");

    // The administrator enables and erases; support still disables a plain user.
    await admin.get(`/support/users/${peer.id}`);
    expect((await admin.post(`/support/users/${peer.id}/enable`)).headers.location).toBe(`/support/users/${peer.id}?done=enabled`);
    expect(await lifecycleEvents()).toEqual(["user.enabled", "user.disabled"]);
    expect(await eraseUser(t.deps, { user: (await findUserByLogin(t.deps.db, "adm.life"))!, audit: { actor: "adm.life", ip: null, userAgent: null } }, peer.id)).toMatchObject({ kind: "erased" });
    expect(await findUserByLogin(t.deps.db, "con.peer2")).toBeUndefined();
    const plain = await addUser(t.deps, { loginId: "con.plain2" });
    await support.get(`/support/users/${plain.id}`);
    expect((await support.post(`/support/users/${plain.id}/disable`)).headers.location).toBe(`/support/users/${plain.id}?done=disabled`);
  });

  it("an over-long ticket for a temporary password (posted directly), or one with U+202E, gets the ticket's own reason and the form again, 400, and sets nothing", async () => {
    const TICKET_PROBLEM = "Enter the ticket reference of the request (1 to 64 characters).";
    const user = await addUser(t.deps, { loginId: "con.longticket", fullName: "Lee Long", partnerNumber: "7704" });
    await support.get(`/support/users/${user.id}/temporary-password`);
    const identity = { name: "Lee Long", loginId: "con.longticket", partnerNumber: "7704" };
    for (const ticket of ["T".repeat(65), "T".repeat(201), "T".repeat(10_000)]) {
      for (const url of [`/support/users/${user.id}/temporary-password`, `/support/users/${user.id}/temporary-password/confirm`]) {
        const response = await support.post(url, { ...identity, ticket });
        expect(response.statusCode, `${url} ${ticket.length}`).toBe(400);
        expect(response.body, `${url} ${ticket.length}`).toContain(`<p class="field-problem" id="ticket-problem">${TICKET_PROBLEM}</p>`);
        expect(response.body).toContain(`value="${ticket}"`);
        expect(response.body).not.toContain('class="secret"');
      }
    }
    // A bidirectional control (U+202E) in the ticket: refused with that rule's words (support/ticket.ts).
    for (const url of [`/support/users/${user.id}/temporary-password`, `/support/users/${user.id}/temporary-password/confirm`]) {
      const response = await support.post(url, { ...identity, ticket: "INC-77\u202e" });
      expect(response.statusCode, url).toBe(400);
      expect(response.body, url).toContain('<p class="field-problem" id="ticket-problem">The ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors).</p>');
      expect(response.body).not.toContain('class="secret"');
    }
    const after = (await findUserByLogin(t.deps.db, "con.longticket"))!;
    expect(after.password_hash).toBe(user.password_hash);
    expect(after.password_temporary_until).toBeNull();
    expect(await queryAudit(t.deps.db, { subject: "con.longticket", event: "password.temporary-set" })).toEqual([]);
  });

  it("a disabled account gets no temporary password: the page says why where the link would be, each step answers 409 with it, and nothing changes", async () => {
    // A leaver's forgotten password: any password is answered as a wrong one while the account is
    // disabled, so a temporary one read out over the phone would only mislead the user and support.
    const DISABLED = "This account is disabled, so no password lets it sign in: enable it first, then set a temporary password.";
    const user = await addUser(t.deps, { loginId: "con.tempoff", fullName: "Tess Off", partnerNumber: "7705", email: "tess.off@dealer.example" });
    await support.get(`/support/users/${user.id}`);
    expect((await support.post(`/support/users/${user.id}/disable`)).headers.location).toContain("done=disabled");
    const disabledRow = (await findUserByLogin(t.deps.db, "con.tempoff"))!;
    const page = await support.get(`/support/users/${user.id}`);
    expect(page.body).toContain(DISABLED);
    expect(page.body).not.toContain(`href="/support/users/${user.id}/temporary-password"`);
    expect((await support.get(`/support/users/${user.id}/temporary-password`)).statusCode).toBe(409);
    const identity = { name: "Tess Off", loginId: "con.tempoff", partnerNumber: "7705", ticket: "RITM77" };
    for (const url of [`/support/users/${user.id}/temporary-password`, `/support/users/${user.id}/temporary-password/confirm`]) {
      const response = await support.post(url, identity);
      expect(response.statusCode, url).toBe(409);
      expect(response.body, url).toContain(DISABLED);
      expect(response.body).not.toContain('class="secret"');
    }
    const after = (await findUserByLogin(t.deps.db, "con.tempoff"))!;
    expect(after.password_hash).toBe(disabledRow.password_hash);
    expect(after.password_temporary_until).toBeNull();
    expect(await queryAudit(t.deps.db, { subject: "con.tempoff", event: "password.temporary-set" })).toEqual([]);
    // Enabled again, the same request goes through.
    await support.get(`/support/users/${user.id}`);
    expect((await support.post(`/support/users/${user.id}/enable`)).headers.location).toContain("done=enabled");
    const formStamp = await openTemporaryPasswordForm(support, user.id);
    expect((await support.post(`/support/users/${user.id}/temporary-password/confirm`, { ...identity, formStamp })).body).toContain('class="secret"');
  });

  it("creates a user with a temporary first password; only an administrator creates support or admin accounts", async () => {
    await support.get("/support/users/new");
    const form = { loginId: "new.starter", fullName: "New Starter", partnerNumber: "7701", role: "user", email: "new.starter@dealer.example" };
    const created = await support.post("/support/users/new", form);
    expect(created.statusCode).toBe(200);
    const password = /class="secret">([^<]+)</.exec(created.body)![1]!;
    expect((await findUserByLogin(t.deps.db, "new.starter"))!.password_temporary_until).not.toBeNull();
    expect((await support.post("/support/users/new", form)).statusCode).toBe(409);
    expect((await support.post("/support/users/new", { ...form, loginId: "bad id" })).statusCode).toBe(400);
    expect((await support.post("/support/users/new", { ...form, loginId: "new.support", role: "support" })).statusCode).toBe(403);
    expect(await findUserByLogin(t.deps.db, "new.support")).toBeUndefined();
    await admin.get("/support/users/new");
    expect((await admin.post("/support/users/new", { ...form, loginId: "new.support", role: "support" })).statusCode).toBe(200);

    // The first sign-in leads to "Choose a new password".
    const client = new FormClient(t.app);
    const before = t.smtp.messages.length;
    expect((await submitPassword(client, "new.starter", password)).headers.location).toBe("/otp");
    await client.get("/otp");
    expect((await client.post("/otp", { code: await nextCode(t.smtp, "new.starter@dealer.example", before) })).headers.location).toBe("/choose-password");
  });
});
