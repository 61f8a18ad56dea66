import { NO_ACCOUNT_PREFIX } from "../../src/users/login-digest.ts";
import { testLoginDigest } from "../support/login-counter.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { recordFailure } from "../../src/regulation/throttle.ts";
import { auditPage, auditRecords, UNKNOWN_LOGIN_ID } from "../../src/support/audit-trail.ts";
import { findUserById, loginKey } from "../../src/users/users.ts";
import { addUser, type TestApp } from "../support/app.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";

describe.each(["sqlite", "postgres"] as const)("support console: find users, a user's page, unlock, roles, notices, audit trail (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  let admin: FormClient;
  beforeAll(async () => {
    ({ t, support, admin } = await consoleWithStaff(database, { support: "sup.one", admin: "adm.one" }));
  });
  afterAll(async () => t.close());

  it("finds users by a part of the login ID, name, partner number or email, ignoring case, a page at a time", async () => {
    await addUser(t.deps, { loginId: "K.Findley", fullName: "Kim  Findley", partnerNumber: "00777", email: "kim.f@motors.example" });
    for (const q of ["findl", "KIM FIND", "findley kim", "0077", "MOTORS.example"]) {
      const page = await support.get(`/support?q=${encodeURIComponent(q)}`);
      expect(page.statusCode).toBe(200);
      expect(page.body, q).toContain("K.Findley");
      expect(page.body).toContain("k•••@motors.example");
    }
    expect((await support.get("/support?q=nobody-like-this")).body).toContain("No user matches");
    // LIKE wildcards are literal: "%" and "_" find nobody here.
    expect((await support.get("/support?q=%25")).body).toContain("No user matches");
    expect((await support.get("/support?q=_")).body).toContain("No user matches");

    for (let i = 0; i < 23; i += 1) await addUser(t.deps, { loginId: `pager${String(i).padStart(2, "0")}`, partnerNumber: "55501" });
    const first = await support.get("/support?q=55501");
    expect(first.body).toContain("23 users match");
    expect(first.body).toContain("page 1 of 2");
    expect(first.body).toContain("pager00");
    expect(first.body).not.toContain("pager20");
    const second = await support.get("/support?q=55501&page=2");
    expect(second.body).toContain("pager22");
    expect(second.body).not.toContain("pager00<");
  });

  it("finds names and login IDs with capitals beyond ASCII (Ö, É, Ü) whatever case is typed, and a name typed with a combining accent", async () => {
    await addUser(t.deps, { loginId: "Ö.Yılmaz", fullName: "Özge ÉLODIE Ünal", partnerNumber: "00778" });
    for (const q of ["özge", "ÖZGE", "Özge", "élodie", "ünal ÖZGE", "ö.y", "O\u0308zge"]) {
      const page = await support.get(`/support?q=${encodeURIComponent(q)}`);
      expect(page.body.match(/(No user|\d+ users?) match[^<]*/)?.[0], q).toMatch(/^1 user matches/);
      expect(page.body, q).toContain("Ö.Yılmaz");
    }
  });

  it("shows a user's enrolment, lock, last sign-in, events and emails with their delivery state", async () => {
    const user = await addUser(t.deps, { loginId: "show.me", email: "show.me@dealer.example" });
    const client = new FormClient(t.app, "10.9.9.9");
    await signInFully(client, t.smtp, user);
    for (let i = 0; i < 5; i += 1) await recordFailure(t.deps.db, "password", { loginKey: testLoginDigest("show.me"), ip: "10.8.8.8" }, t.clock.now(), t.config);
    const page = (await support.get(`/support/users/${user.id}`)).body;
    expect(page).toContain("Confirmed: s•••@dealer.example");
    expect(page).not.toContain("show.me@dealer.example");
    expect(page).toContain("Locked until");
    expect(page).toContain("5 wrong passwords");
    expect(page).toContain("Last sign-in");
    expect(page).toContain("code.confirmed");
    expect(page).toContain("Your FAMOS one time passcode");
    expect(page).toMatch(/<td class="state-sent">sent/);
  });

  it("unlocks a locked login ID, the permanent code lock included, and audits it", async () => {
    const user = await addUser(t.deps, { loginId: "locked.out" });
    const lock = { ...t.config.lock, codeHardLock: 3 };
    for (let i = 0; i < 3; i += 1) await recordFailure(t.deps.db, "code", { loginKey: testLoginDigest("locked.out"), ip: "10.7.7.7" }, t.clock.now(), { ...t.config, lock });
    expect((await support.get(`/support/users/${user.id}`)).body).toContain("Locked until support unlocks it");
    const unlocked = await support.post(`/support/users/${user.id}/unlock`);
    expect(unlocked.headers.location).toBe(`/support/users/${user.id}?done=unlocked`);
    expect((await support.get(unlocked.headers.location!)).body).toContain("Not locked");
    const [event] = await queryAudit(t.deps.db, { subject: "locked.out", event: "unlock" });
    expect(event!.actor).toBe("sup.one");
    expect(event!.detail).toMatchObject({ wasLocked: true, permanent: true, codeFailures: 3 });
    // The user can sign in again.
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
  });

  it("lets an administrator change a role, audited; the new role applies at once", async () => {
    const user = await addUser(t.deps, { loginId: "promote.me" });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    expect((await client.get("/support")).statusCode).toBe(403);
    await admin.get(`/support/users/${user.id}`);
    expect((await admin.post(`/support/users/${user.id}/role`, { role: "superuser" })).statusCode).toBe(400);
    const changed = await admin.post(`/support/users/${user.id}/role`, { role: "support" });
    expect(changed.headers.location).toBe(`/support/users/${user.id}?done=role`);
    expect((await findUserById(t.deps.db, user.id))!.role).toBe("support");
    expect((await client.get("/support")).statusCode).toBe(200);
    const [event] = await queryAudit(t.deps.db, { subject: "promote.me", event: "role.changed" });
    expect(event!.detail).toEqual({ from: "user", to: "support" });
    expect(event!.actor).toBe("adm.one");
    // The role form is the administrator's alone.
    expect((await support.get(`/support/users/${user.id}`)).body).not.toContain("Change role");
    expect((await admin.get(`/support/users/${user.id}`)).body).toContain("Change role");
  });

  it("posts, edits and ends a notice; the banner shows it with UPDATED, then not at all", async () => {
    const reader = new FormClient(t.app);
    await signInFully(reader, t.smtp, await addUser(t.deps));
    await support.get("/support/notices");
    expect((await support.post("/support/notices", { title: "", body: "x" })).statusCode).toBe(400);
    const posted = await support.post("/support/notices", { title: "Application Issue", body: "Quotations are slow.\r\n\r\nWe are on it." });
    expect(posted.statusCode).toBe(303);
    const detailUrl = posted.headers.location!.replace("?done=posted", "");
    const id = detailUrl.split("/").at(-1)!;
    let portal = (await reader.get("/")).body;
    expect(portal).toContain("Application Issue &lt;28/11/2026 14:00&gt; Please click for more info");
    expect(portal).not.toContain("UPDATED");
    const userView = await reader.get(`/notices/${id}`);
    expect(userView.body).toContain("We are on it.");

    t.clock.advance(20 * 60_000); // within the 30 minutes idle time of the sessions
    await support.get(detailUrl);
    expect((await support.post(detailUrl, { title: "Application Issue", body: "Fixed at 14:40." })).statusCode).toBe(303);
    portal = (await reader.get("/")).body;
    expect(portal).toContain("UPDATED 28/11/26 - 14:20");
    expect((await support.get(detailUrl)).body).toContain("UPDATED 28/11/2026 14:20");

    expect((await support.post(`${detailUrl}/end`)).statusCode).toBe(303);
    portal = (await reader.get("/")).body;
    expect(portal).not.toContain("Application Issue");
    expect((await support.get(detailUrl)).body).toContain("has ended");
    expect((await support.post(detailUrl, { title: "Too late", body: "x" })).statusCode).toBe(409);
    // SPEC Audit "notice changed": posting, editing and ending are each written, by whom, of which notice.
    const events = [
      ...(await queryAudit(t.deps.db, { event: "notice.created" })),
      ...(await queryAudit(t.deps.db, { event: "notice.updated" })),
      ...(await queryAudit(t.deps.db, { event: "notice.ended" })),
    ];
    expect(events.map((e) => [e.event, e.actor, e.detail.notice])).toEqual([
      ["notice.created", "sup.one", id],
      ["notice.updated", "sup.one", id],
      ["notice.ended", "sup.one", id],
    ]);
  });

  it("refuses a notice with a control character (C1 such as U+009B, a tab, ESC) in the title or the body, storing and auditing nothing; line breaks in the body are kept", async () => {
    const stored = async () => (await t.deps.db.selectFrom("notices").select("id").execute()).length;
    const audited = async () => (await queryAudit(t.deps.db, { event: "notice.created" })).length + (await queryAudit(t.deps.db, { event: "notice.updated" })).length;
    const [notices, events] = [await stored(), await audited()];
    await support.get("/support/notices");
    const refusals = [
      [{ title: "Application\u009b2J Issue", body: "Quotations are slow." }, "Enter a title of 1 to 100 characters on one line"],
      [{ title: "Application\u0085Issue", body: "Quotations are slow." }, "Enter a title of 1 to 100 characters on one line"],
      [{ title: "Application Issue", body: "Quotations\u009b2J are slow." }, "Enter the text of the notice, 1 to 4000 characters."],
      [{ title: "Application Issue", body: "Quotations\nare\u009f slow." }, "Enter the text of the notice, 1 to 4000 characters."],
      [{ title: "Application Issue", body: "Quotations\tare slow." }, "Enter the text of the notice, 1 to 4000 characters."],
      [{ title: "Application Issue", body: "Quotations \u001b[2J are slow." }, "Enter the text of the notice, 1 to 4000 characters."],
    ] as const;
    for (const [form, reason] of refusals) {
      const refused = await support.post("/support/notices", form);
      expect(refused.statusCode, JSON.stringify(form)).toBe(400);
      expect(refused.body, JSON.stringify(form)).toContain(reason);
    }
    expect([await stored(), await audited()]).toEqual([notices, events]);

    const posted = await support.post("/support/notices", { title: "Printing", body: "Quotes print slowly.\r\nLine two.\n\nLine four." });
    expect(posted.statusCode).toBe(303);
    const detailUrl = posted.headers.location!.replace("?done=posted", "");
    const id = detailUrl.split("/").at(-1)!;
    const row = await t.deps.db.selectFrom("notices").select(["title", "body"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toEqual({ title: "Printing", body: "Quotes print slowly.\nLine two.\n\nLine four." });
    await support.get(detailUrl);
    const updates = (await queryAudit(t.deps.db, { event: "notice.updated" })).length;
    const edited = await support.post(detailUrl, { title: "Printing", body: "Fixed\u009b2J." });
    expect(edited.statusCode).toBe(400);
    expect(edited.body).toContain("Enter the text of the notice, 1 to 4000 characters.");
    expect((await t.deps.db.selectFrom("notices").select("body").where("id", "=", id).executeTakeFirstOrThrow()).body).toBe("Quotes print slowly.\nLine two.\n\nLine four.");
    expect(await queryAudit(t.deps.db, { event: "notice.updated" })).toHaveLength(updates);
    expect((await support.post(`${detailUrl}/end`)).statusCode).toBe(303);
  });

  it("refuses a notice title with a bidirectional or zero-width control (it would reverse the banner's date and link text for every user), posted or edited, storing and auditing nothing", async () => {
    const stored = async () => (await t.deps.db.selectFrom("notices").select("title").execute()).map((n) => n.title);
    const audited = async () => (await queryAudit(t.deps.db, { event: "notice.created" })).length + (await queryAudit(t.deps.db, { event: "notice.updated" })).length;
    const [titles, events] = [await stored(), await audited()];
    await support.get("/support/notices");
    for (const title of ["Outage \u202eevil", "Outage \u2067x", "Out\u200bage", "\u200fOutage"]) {
      const refused = await support.post("/support/notices", { title, body: "Quotations are slow." });
      expect(refused.statusCode, JSON.stringify(title)).toBe(400);
      expect(refused.body, JSON.stringify(title)).toContain("The title must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)");
    }
    expect([await stored(), await audited()]).toEqual([titles, events]);
    const posted = await support.post("/support/notices", { title: "Outage", body: "Quotations are slow." });
    const detailUrl = posted.headers.location!.replace("?done=posted", "");
    await support.get(detailUrl);
    const edited = await support.post(detailUrl, { title: "Outage \u202eevil", body: "Quotations are slow." });
    expect(edited.statusCode).toBe(400);
    expect(edited.body).toContain("The title must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)");
    expect(await stored()).toEqual([...titles, "Outage"]);
    expect((await support.post(`${detailUrl}/end`)).statusCode).toBe(303);
  });

  // Red team 2026-12-07: the body (the notice's own page, shown to all staff) took what the title refuses.
  it("refuses a notice body with a bidirectional or zero-width control too, posted or edited, storing and auditing nothing; an emoji as an iPhone types it is taken", async () => {
    const stored = async () => (await t.deps.db.selectFrom("notices").select("body").execute()).map((n) => n.body);
    const audited = async () => (await queryAudit(t.deps.db, { event: "notice.created" })).length + (await queryAudit(t.deps.db, { event: "notice.updated" })).length;
    const [bodies, events] = [await stored(), await audited()];
    await support.get("/support/notices");
    for (const body of ["Call \u202e0123 456\u202c today.", "Quotations\u200b are slow.", "Line one.\n\u2067Line two."]) {
      const refused = await support.post("/support/notices", { title: "Outage", body });
      expect(refused.statusCode, JSON.stringify(body)).toBe(400);
      expect(refused.body, JSON.stringify(body)).toContain("The text must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)");
    }
    expect([await stored(), await audited()]).toEqual([bodies, events]);
    const posted = await support.post("/support/notices", { title: "Outage", body: "\u26a0\ufe0f Quotations are slow." });
    expect(posted.statusCode).toBe(303);
    const detailUrl = posted.headers.location!.replace("?done=posted", "");
    await support.get(detailUrl);
    const edited = await support.post(detailUrl, { title: "Outage", body: "Quotations are slow\u200f." });
    expect(edited.statusCode).toBe(400);
    expect(edited.body).toContain("The text must not contain invisible characters");
    expect(await stored()).toEqual([...bodies, "\u26a0\ufe0f Quotations are slow."]);
    expect((await support.post(`${detailUrl}/end`)).statusCode).toBe(303);
  });

  it("takes a notice title with an emoji as an iPhone types it (\"⚠️\": U+FE0F after the pictograph), posted and edited; a stray selector stays refused", async () => {
    const title = "\u26a0\ufe0f Maintenance";
    await support.get("/support/notices");
    const stray = await support.post("/support/notices", { title: "Maintenance\ufe0f", body: "Quotations are slow." });
    expect(stray.statusCode).toBe(400);
    expect(stray.body).toContain("The title must not contain invisible characters");
    const posted = await support.post("/support/notices", { title, body: "Quotations are slow." });
    expect(posted.statusCode).toBe(303);
    const detailUrl = posted.headers.location!.replace("?done=posted", "");
    const id = detailUrl.split("/").at(-1)!;
    await support.get(detailUrl);
    const edited = await support.post(detailUrl, { title, body: "Quotations are slow until 10:00." });
    expect(edited.statusCode).toBe(303);
    expect(await t.deps.db.selectFrom("notices").select(["title", "body"]).where("id", "=", id).executeTakeFirstOrThrow()).toEqual({ title, body: "Quotations are slow until 10:00." });
    expect((await support.post(`${detailUrl}/end`)).statusCode).toBe(303);
  });

  it("reads the audit trail filtered by user, event and time, a page at a time, and exports it as CSV", async () => {
    const user = await addUser(t.deps, { loginId: "=HYPERLINK(\"http://evil\")" });
    const start = t.clock.now();
    for (let i = 0; i < 60; i += 1) {
      await t.deps.db.insertInto("audit").values({
        time: start + i * 60_000, event: "password.failed", actor: user.login_id, subject: user.login_id, ip: "10.0.0.1",
        user_agent: i === 0 ? "-cmd,\"quoted\"\nnext line" : "ua", detail: JSON.stringify({ n: i }),
      }).execute();
    }
    const base = `/support/audit?${new URLSearchParams({ user: user.login_id.toLowerCase(), event: "password.failed" }).toString()}`;
    const first = await support.get(base);
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain("n: 59");
    expect(first.body).not.toContain("n: 9<");
    expect(first.body).toContain("Next page");
    const second = await support.get(`${base}&page=2`);
    expect(second.body).toContain("n: 0");
    expect(second.body).not.toContain("Next page");

    const from = new Date(start + 30 * 60_000).toISOString().slice(0, 16); // Europe/London is UTC in November
    const windowed = await support.get(`${base}&from=${encodeURIComponent(from)}`);
    expect(windowed.body).toContain("n: 30");
    expect(windowed.body).not.toContain("n: 29<");
    expect((await support.get("/support/audit?event=made.up")).statusCode).toBe(400);
    expect((await support.get("/support/audit?from=yesterday")).statusCode).toBe(400);

    const csv = await support.get(base.replace("/support/audit?", "/support/audit.csv?"));
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.headers["content-disposition"]).toMatch(/^attachment; filename="famos-audit-\d{8}-\d{4}\.csv"$/);
    const lines = csv.body.replace(/^\uFEFF/, "").split("\r\n");
    expect(lines[0]).toBe('"time_utc","time_local","event","actor","subject","ip","user_agent","detail","time_local_offset"');
    // Oldest first; the formula guard and RFC 4180 quoting on the first row.
    expect(lines[1]).toBe(
      `"${new Date(start).toISOString()}","28/11/2026 14:20","password.failed","'=HYPERLINK(""http://evil"")","'=HYPERLINK(""http://evil"")","10.0.0.1","'-cmd,""quoted""\nnext line","{""n"":0}","UTC+00:00"`,
    );
    expect(csv.body.split("password.failed").length - 1).toBe(60);
  });

  it("ASVS 7.1.1: a password typed into the Login ID field never reaches support through the audit trail (page, CSV, famos audit), though the attempts still show", async () => {
    const user = await addUser(t.deps, { loginId: `typo.victim.${database}`, password: `Autofill Put Me Here ${database} 42` });
    const ip = `10.0.${database === "sqlite" ? 71 : 72}.1`;
    // Autofill put the password in the Login ID field, six times (the sixth is refused by the pause it started).
    for (let i = 0; i < 6; i += 1) expect((await submitPassword(new FormClient(t.app, ip), user.password, user.password)).statusCode).toBe(401);
    // Then the right way round, from the same browser: the trail would pair the two by address and time.
    expect((await submitPassword(new FormClient(t.app, ip), user.login_id, user.password)).headers.location).toBe("/otp");
    const secret = [user.password, user.password.toLowerCase(), loginKey(user.password)];
    const stored = await t.deps.db.selectFrom("audit").select(["event", "actor", "subject"]).where("ip", "=", ip).execute();
    // Stored as the login ID's keyed digest, never as typed (src/users/login-digest.ts).
    expect(stored.some((r) => r.subject === loginKey(user.password) || r.actor === loginKey(user.password))).toBe(false);
    expect(stored.filter((r) => r.subject === `${NO_ACCOUNT_PREFIX}${testLoginDigest(user.password)}`).map((r) => r.event)).toEqual(expect.arrayContaining(["password.failed", "lock.started"]));

    const shown: string[] = [];
    for (const query of ["?event=password.failed", "?event=lock.started", ""]) {
      const page = await support.get(`/support/audit${query}`);
      expect(page.statusCode).toBe(200);
      shown.push(page.body);
      shown.push((await support.get(`/support/audit.csv${query}`)).body);
    }
    const trail = [];
    for await (const record of auditRecords(t.deps.db, { since: 0 }, "asc")) trail.push(record);
    shown.push(JSON.stringify(trail));
    for (const text of shown) for (const s of secret) expect(text).not.toContain(s.replace(/"/g, "&quot;"));
    for (const text of shown) for (const s of secret) expect(text).not.toContain(s);
    expect(shown[2]).toContain("<td>(a login ID no account has)</td>"); // the lock.started page
    // The attempts are still there, from that address, as attempts at a login ID no account has.
    const masked = trail.filter((r) => r.ip === ip && r.event === "password.failed" && r.subject === UNKNOWN_LOGIN_ID);
    expect(masked).toHaveLength(6);
    expect(masked.every((r) => r.actor === UNKNOWN_LOGIN_ID && r.detail.typed === undefined)).toBe(true);
    expect(trail.some((r) => r.ip === ip && r.event === "password.ok" && r.subject === `typo.victim.${database}`)).toBe(true);
    // An erased account's failures keep its pseudonym (src/account/erase.ts), which is no typed text.
    await t.deps.db.insertInto("audit").values({ time: t.clock.now(), event: "password.failed", actor: "erased-AbCd_-12", subject: "erased-AbCd_-12", ip: null, user_agent: null, detail: "{}" }).execute();
    const erased = await auditPage(t.deps.db, { user: "erased-AbCd_-12" }, { page: 1 });
    expect(erased.records.map((r) => [r.actor, r.subject])).toEqual([["erased-AbCd_-12", "erased-AbCd_-12"]]);
  });
});
