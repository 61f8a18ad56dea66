import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeWave } from "../../src/rollout/plan-change.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

const DAY = 86_400_000;
/** The portal's own page, not the sign-in page "/" shows a signed-out browser (both answer 200). */
const PORTAL = 'action="/logout"';

/**
 * Issue 12's password-only ways (before the user's wave, "Later") attacked with a session opened
 * while they were allowed: whoever had the password — a thief, a colleague at a shared PC — kept the
 * portal after the account came to need two factors, for up to FAMOS_SESSION_MAX (12 h).
 */
describe.each(DIALECTS)("password-only sessions, attacked (%s)", (dialect) => {
  let t: TestApp;
  let partner = 0;
  const newPartner = () => `po${dialect.slice(0, 2)}${(partner += 1)}`;

  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_2FA_GRACE_SIGNINS: "1" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** From the portal the password alone opened: the banner's "set your OTP email now", then its code. */
  async function enrolEarly(owner: FormClient, loginId: string, password: string) {
    const address = `${loginId}@dealer.example`;
    const mails = t.smtp.messages.length;
    await owner.get("/rollout/enrol");
    expect((await owner.post("/rollout/enrol", { email: address, confirmEmail: address, password })).headers.location).toBe("/otp?notice=sent");
    const code = await nextCode(t.smtp, address, mails);
    await owner.get("/otp");
    expect((await owner.post("/otp", { code })).statusCode).toBe(303);
  }

  const endReason = async (loginId: string) =>
    (await t.deps.db.selectFrom("sessions").innerJoin("users", "users.id", "sessions.user_id").select(["sessions.end_reason", "sessions.expires_at"]).where("users.login_id", "=", loginId).execute());

  it("a session the password alone opened a second before the wave opens the portal no more once the wave starts", async () => {
    const start = t.clock.now();
    const p = newPartner();
    const wave = start + DAY;
    await setWaveStart(t.deps.db, p, wave, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    t.clock.set(wave - 1000);
    const thief = new FormClient(t.app);
    expect((await submitPassword(thief, user.login_id, user.password)).headers.location).toBe("/");
    expect((await thief.get("/")).body).toContain(PORTAL);
    t.clock.set(wave);
    const after = await thief.get("/");
    const section = await thief.get("/quotation");
    t.clock.set(start);
    expect(after.body).not.toContain(PORTAL);
    expect(section.statusCode).toBe(303);
    expect(section.headers.location).toMatch(/^\/login/);
    expect((await endReason(user.login_id)).map((s) => Number(s.expires_at))).toEqual([wave]);
  });

  it("a wave moved to now ends the password-only sessions it covers; those of other partners stay", async () => {
    const start = t.clock.now();
    const [p, other] = [newPartner(), newPartner()];
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    await setWaveStart(t.deps.db, other, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const bystander = await addUser(t.deps, { email: null, partnerNumber: other });
    const thief = new FormClient(t.app);
    const colleague = new FormClient(t.app);
    await submitPassword(thief, user.login_id, user.password);
    await submitPassword(colleague, bystander.login_id, bystander.password);
    t.clock.set(start + 60_000);
    const moved = await changeWave(t.deps, { user: null, audit: { actor: "admin", ip: null, userAgent: null } }, { partner: p, from: "2026-11-28T14:01", timeZone: "UTC" });
    expect(moved.kind).toBe("set");
    const page = await thief.get("/");
    const kept = await colleague.get("/");
    t.clock.set(start);
    expect(page.body).not.toContain(PORTAL);
    expect(kept.body).toContain(PORTAL);
    // The change's audit line says how many password-only sessions it cut short (they end as a lapse, unaudited).
    const planned = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "rollout.planned").orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(JSON.parse(planned.detail)).toMatchObject({ partner: p, passwordOnlyEnded: 1 });
  });

  it("a partner's start removed with no default left (two factors for all): its password-only sessions end at once", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const thief = new FormClient(t.app);
    await submitPassword(thief, user.login_id, user.password);
    t.clock.set(start + 60_000);
    expect((await changeWave(t.deps, { user: null, audit: { actor: "admin", ip: null, userAgent: null } }, { partner: p, from: null })).kind).toBe("removed");
    const page = await thief.get("/");
    t.clock.set(start);
    expect(page.body).not.toContain(PORTAL);
  });

  it("a wave moved to a time already past ends the password-only sessions opened under the old start, even those opened after the new one", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    t.clock.set(start + 30 * 60_000);
    const thief = new FormClient(t.app);
    expect((await submitPassword(thief, user.login_id, user.password)).headers.location).toBe("/");
    t.clock.set(start + 31 * 60_000);
    // "Start now" typed a little late: 14:00, read at 14:31, after the thief's 14:30 sign-in.
    expect((await changeWave(t.deps, { user: null, audit: { actor: "admin", ip: null, userAgent: null } }, { partner: p, from: "2026-11-28T14:00", timeZone: "UTC" })).kind).toBe("set");
    const page = await thief.get("/");
    t.clock.set(start);
    expect(page.body).not.toContain(PORTAL);
  });

  it("a partner's start removed when the default start has passed: its staff's password-only sessions end at once", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    await setWaveStart(t.deps.db, null, start - DAY, start, "test");
    try {
      const user = await addUser(t.deps, { email: null, partnerNumber: p });
      const thief = new FormClient(t.app);
      expect((await submitPassword(thief, user.login_id, user.password)).headers.location).toBe("/");
      t.clock.set(start + 60_000);
      expect((await changeWave(t.deps, { user: null, audit: { actor: "admin", ip: null, userAgent: null } }, { partner: p, from: null })).kind).toBe("removed");
      const page = await thief.get("/");
      t.clock.set(start);
      expect(page.body).not.toContain(PORTAL);
    } finally {
      t.clock.set(start);
      await t.deps.db.deleteFrom("rollout_plan").where("partner_number", "=", "*").execute();
    }
  });

  it("\"Later\" chosen after the start stays when the start is then moved earlier", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start - DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    await client.get("/enrol");
    expect((await client.post("/enrol/later", { email: "", confirmEmail: "" })).headers.location).toBe("/");
    t.clock.set(start + 60_000);
    expect((await changeWave(t.deps, { user: null, audit: { actor: "admin", ip: null, userAgent: null } }, { partner: p, from: "2026-11-20T09:00", timeZone: "UTC" })).kind).toBe("set");
    const page = await client.get("/");
    t.clock.set(start);
    expect(page.body).toContain(PORTAL);
  });

  // A "Later" made after the start then in force is no before-wave session: a start set or moved later
  // does not concern it (it would be offered again after the new start). Before, the new start, within
  // the session's FAMOS_SESSION_MAX, cut it there.
  for (const [what, own] of [
    ["its partner is given its own start, within 12 h, while a past default start was in force", false],
    ["its partner's own start, passed, is moved within 12 h ahead", true],
  ] as const) {
    it(`"Later" chosen after the start stays when ${what}`, async () => {
      const start = t.clock.now();
      const p = newPartner();
      const plan = await t.deps.db.selectFrom("rollout_plan").selectAll().execute();
      if (own) await setWaveStart(t.deps.db, p, start - DAY, start, "test");
      else await t.deps.db.deleteFrom("rollout_plan").execute();
      if (!own) await setWaveStart(t.deps.db, null, start - DAY, start, "test");
      try {
        const user = await addUser(t.deps, { email: null, partnerNumber: p });
        const client = new FormClient(t.app);
        await submitPassword(client, user.login_id, user.password);
        await client.get("/enrol");
        expect((await client.post("/enrol/later", { email: "", confirmEmail: "" })).headers.location).toBe("/");
        const from = new Date(start + 20 * 60_000).toISOString().slice(0, 16);
        expect((await changeWave(t.deps, { user: null, audit: { actor: "admin", ip: null, userAgent: null } }, { partner: p, from, timeZone: "UTC" })).kind).toBe("set");
        t.clock.set(start + 25 * 60_000);
        const page = await client.get("/");
        t.clock.set(start);
        expect(page.body).toContain(PORTAL);
      } finally {
        if (!own) {
          await t.deps.db.deleteFrom("rollout_plan").execute();
          if (plan.length > 0) await t.deps.db.insertInto("rollout_plan").values(plan).execute();
        }
      }
    });
  }

  it("the owner confirms an OTP email early: a second browser's password-only session opens the portal no more", async () => {
    const start = t.clock.now();
    const p = newPartner();
    await setWaveStart(t.deps.db, p, start + 5 * DAY, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const thief = new FormClient(t.app);
    expect((await submitPassword(thief, user.login_id, user.password)).headers.location).toBe("/");
    const owner = new FormClient(t.app);
    await submitPassword(owner, user.login_id, user.password);
    await enrolEarly(owner, user.login_id, user.password);
    expect((await owner.get("/")).body).toContain(PORTAL);
    expect((await thief.get("/")).body).not.toContain(PORTAL);
    expect((await thief.get("/profile")).headers.location).toMatch(/^\/login/);
    expect((await endReason(user.login_id)).map((s) => s.end_reason)).toContain("two-factor-required");
    expect((await owner.get("/")).body).toContain(PORTAL);
  });

  it("a before-wave session that enrols early with a code is a two-factor session: the wave's start no longer ends it", async () => {
    const start = t.clock.now();
    const p = newPartner();
    const wave = start + 20 * 60_000;
    await setWaveStart(t.deps.db, p, wave, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: p });
    const owner = new FormClient(t.app);
    expect((await submitPassword(owner, user.login_id, user.password)).headers.location).toBe("/");
    await enrolEarly(owner, user.login_id, user.password);
    t.clock.set(wave - 5 * 60_000);
    const before = await owner.get("/");
    t.clock.set(wave + 5 * 60_000);
    const after = await owner.get("/");
    t.clock.set(start);
    expect(before.body).toContain(PORTAL);
    expect(after.body).toContain(PORTAL);
    // Its end is FAMOS_SESSION_MAX from its start, as any session whose code was verified.
    const [session] = await endReason(user.login_id);
    expect(Number(session!.expires_at)).toBe(start + t.deps.config.session.maxMs);
  });

  it("\"Later\" after the wave, then a promotion to support: the password-only session reaches neither the portal nor the console", async () => {
    const user = await addUser(t.deps, { email: null, partnerNumber: newPartner() });
    const client = new FormClient(t.app);
    await submitPassword(client, user.login_id, user.password);
    await client.get("/enrol");
    expect((await client.post("/enrol/later", { email: "", confirmEmail: "" })).headers.location).toBe("/");
    expect((await client.get("/")).body).toContain(PORTAL);
    await t.deps.db.updateTable("users").set({ role: "support" }).where("id", "=", user.id).execute();
    expect((await client.get("/")).body).not.toContain(PORTAL);
    expect((await client.get("/support")).headers.location).toMatch(/^\/login/);
    // The end is in the trail (SPEC "session ended"), once, as the request's that met it.
    const ended = await t.deps.db.selectFrom("audit").select(["actor", "detail", "ip"]).where("event", "=", "session.ended").where("subject", "=", user.login_id).execute();
    expect(ended).toHaveLength(1);
    expect(ended[0]!.actor).toBe(user.login_id);
    expect(ended[0]!.ip).not.toBeNull();
    expect(JSON.parse(ended[0]!.detail)).toMatchObject({ reason: "two-factor-required" });
  });
});
