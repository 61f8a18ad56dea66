import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

const DAY = 86_400_000;
/** 01/12/2026 07:00 in Europe/London (UTC in winter); the test clock starts at 28/11/2026 14:00. */
const WAVE = Date.UTC(2026, 11, 1, 7, 0);

describe.each(DIALECTS)("2FA waves (%s)", (dialect) => {
  let t: TestApp;
  let partner = 0;
  /** Each test has partner numbers of its own, so the plan rows of one do not move another's users. */
  const newPartner = () => `w${dialect.slice(0, 2)}${(partner += 1)}`;

  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_2FA_GRACE_SIGNINS: "2" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("before the wave the password alone opens the portal with the banner; from the start the same user meets User profile", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, WAVE, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const mails = t.smtp.messages.length;

    const before = new FormClient(t.app);
    const signedIn = await submitPassword(before, user.login_id, user.password);
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe("/");
    const home = await before.get("/");
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('Two-factor sign-in starts for you on 01/12/2026: <a href="/rollout/enrol">set your OTP email now</a>');
    expect(t.smtp.messages.length).toBe(mails);
    const events = await t.deps.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).orderBy("id").execute();
    expect(events.map((e) => e.event)).toEqual(["password.ok", "signin.before-wave"]);

    t.clock.set(WAVE - 1);
    expect((await submitPassword(new FormClient(t.app), user.login_id, user.password)).headers.location).toBe("/");
    t.clock.set(WAVE);
    const after = new FormClient(t.app);
    expect((await submitPassword(after, user.login_id, user.password)).headers.location).toBe("/enrol");
    const profile = await after.get("/enrol");
    expect(profile.body).toContain("<h1>User profile</h1>");
    t.clock.set(start);
  });

  it("a partner's own start comes before the default; without any plan 2FA applies at once", async () => {
    const start = t.clock.now();
    const early = newPartner();
    const other = newPartner();
    const a = await addUser(t.deps, { email: null, partnerNumber: early });
    const b = await addUser(t.deps, { email: null, partnerNumber: other });
    // No plan yet: today's behaviour for both.
    expect((await submitPassword(new FormClient(t.app), a.login_id, a.password)).headers.location).toBe("/enrol");
    await setWaveStart(t.deps.db, null, start + 10 * DAY, start, "test");
    await setWaveStart(t.deps.db, early, start - DAY, start, "test");
    expect((await submitPassword(new FormClient(t.app), a.login_id, a.password)).headers.location).toBe("/enrol");
    expect((await submitPassword(new FormClient(t.app), b.login_id, b.password)).headers.location).toBe("/");
    await t.deps.db.deleteFrom("rollout_plan").execute();
  });

  it("support staff and users with a confirmed OTP email get the code before their wave", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const support = await addUser(t.deps, { email: null, partnerNumber: p, role: "support" });
    expect((await submitPassword(new FormClient(t.app), support.login_id, support.password)).headers.location).toBe("/enrol");
    const enrolled = await addUser(t.deps, { partnerNumber: p });
    expect((await submitPassword(new FormClient(t.app), enrolled.login_id, enrolled.password)).headers.location).toBe("/otp");
  });

  it("a session opened by the password alone never reaches the console, even after a promotion to support: it ends", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const client = new FormClient(t.app);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/");
    await t.deps.db.updateTable("users").set({ role: "support" }).where("id", "=", user.id).execute();
    // A support account always needs two factors: the password-only session ends at its next request
    // (rollout/password-only.ts endPasswordOnlyOutlived), the console's own check behind it.
    const console = await client.get("/support/rollout");
    expect(console.statusCode).toBe(303);
    expect(console.headers.location).toBe("/login?returnTo=%2Fsupport%2Frollout&ended=1");
    expect((await client.get("/support")).headers.location).toBe("/login?returnTo=%2Fsupport");
    const ended = await t.deps.db.selectFrom("sessions").select("end_reason").where("user_id", "=", user.id).execute();
    expect(ended.map((s) => s.end_reason)).toEqual(["two-factor-required"]);
  });

  it("the banner's link enrols early: the confirmed address then asks for a code at every sign-in", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    const form = await client.get("/rollout/enrol");
    expect(form.body).toContain('action="/rollout/enrol"');
    const address = `${user.login_id}@dealer.example`;
    const mails = t.smtp.messages.length;
    // The password again, as Profile's address form asks (no code was confirmed in this session).
    expect(form.body).toContain('name="password"');
    const sent = await client.post("/rollout/enrol", { email: address, confirmEmail: address, password: user.password });
    expect(sent.headers.location).toBe("/otp?notice=sent");
    const code = await nextCode(t.smtp, address, mails);
    await client.get("/otp");
    expect((await client.post("/otp", { code })).statusCode).toBe(303);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe(address);
    expect((await client.get("/")).body).not.toContain("Two-factor sign-in starts");
    expect((await submitPassword(new FormClient(t.app), user.login_id, user.password)).headers.location).toBe("/otp");
  });

  it("Later is offered FAMOS_2FA_GRACE_SIGNINS times after the start, counted down, then no more", async () => {
    const user = await addUser(t.deps, { email: null, partnerNumber: newPartner() });
    for (const left of [2, 1]) {
      const client = new FormClient(t.app);
      await submitPassword(client, user.login_id, user.password);
      const page = await client.get("/enrol");
      expect(page.body).toContain(`${left} of 2 left`);
      expect(page.body).toContain('formaction="/enrol/later"');
      const later = await client.post("/enrol/later", { email: "", confirmEmail: "" });
      expect(later.headers.location).toBe("/");
      expect((await client.get("/")).body).toContain('Two-factor sign-in has started for you: <a href="/rollout/enrol">set your OTP email now</a>');
    }
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    const page = await client.get("/enrol");
    expect(page.body).not.toContain("/enrol/later");
    const refused = await client.post("/enrol/later", { email: "", confirmEmail: "" });
    expect(refused.statusCode).toBe(409);
    const deferred = await t.deps.db.selectFrom("audit").select("detail").where("subject", "=", user.login_id).where("event", "=", "enrolment.deferred").orderBy("id").execute();
    expect(deferred.map((e) => JSON.parse(e.detail))).toEqual([{ left: 1 }, { left: 0 }]);
    expect((await client.get("/")).headers.location).toBe("/enrol");
  });

  it("support and admin accounts are never offered Later, and posting it gives no portal", async () => {
    for (const role of ["support", "admin"] as const) {
      const user = await addUser(t.deps, { email: null, role, partnerNumber: newPartner() });
      const client = new FormClient(t.app);
      expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/enrol");
      const page = await client.get("/enrol");
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain("/enrol/later");
      const refused = await client.post("/enrol/later", { email: "", confirmEmail: "" });
      expect(refused.statusCode).toBe(409);
      expect((await client.get("/")).headers.location).toBe("/enrol");
      const deferred = await t.deps.db.selectFrom("audit").select("id").where("subject", "=", user.login_id).where("event", "=", "enrolment.deferred").execute();
      expect(deferred).toEqual([]);
    }
  });

  it("Later's count is checked where it is changed: two sign-ins racing for the last one get one portal", async () => {
    const user = await addUser(t.deps, { email: null, partnerNumber: newPartner() });
    await t.deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: null, grace_used: 1, announced_at: null }).execute();
    const clients = [new FormClient(t.app), new FormClient(t.app), new FormClient(t.app)];
    for (const client of clients) {
      await submitPassword(client, user.login_id, user.password);
      await client.get("/enrol");
    }
    const answers = await Promise.all(clients.map((c) => c.post("/enrol/later", { email: "", confirmEmail: "" })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([303, 409, 409]);
    const row = await t.deps.db.selectFrom("rollout_users").select("grace_used").where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(Number(row.grace_used)).toBe(2);
  });
});

describe("a role that must use a strong factor ignores the rollout plan", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_2FA_GRACE_SIGNINS: "2", FAMOS_STRONG_FACTOR_ROLES: "user,support,admin" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("before the wave the password alone does not open the portal, and Later is not offered", async () => {
    await setWaveStart(t.deps.db, "strong1", t.clock.now() + 30 * DAY, t.clock.now(), "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: "strong1" });
    const client = new FormClient(t.app);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/enrol");
    expect((await client.get("/enrol")).body).not.toContain("/enrol/later");
    expect((await client.post("/enrol/later", { email: "", confirmEmail: "" })).statusCode).toBe(409);
    expect((await client.get("/")).headers.location).toBe("/enrol");
  });
});
