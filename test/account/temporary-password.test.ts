import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { confirmOtpEmail, findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const TEMPORARY = "tmp-pass-word-4711";

/** Issue 11, item 1: a temporary password works once, within its time, and leads to "Choose a new password". */
describe("temporary passwords", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_TEMP_PASSWORD_TTL: "72h" } });
  });
  afterAll(async () => t?.close());

  async function signInWithCode(client: FormClient, loginId: string, password: string, email: string) {
    const before = t.smtp.messages.length;
    const answer = await submitPassword(client, loginId, password);
    expect(answer.headers.location).toBe("/otp");
    await client.get("/otp");
    return client.post("/otp", { code: await nextCode(t.smtp, email, before) });
  }

  it("ends the old sessions, works once with the code, then asks for a new password before anything else", async () => {
    const user = await addUser(t.deps, { loginId: "tp.one", email: "tp.one@dealer.example" });
    const old = new FormClient(t.app);
    await signInFully(old, t.smtp, user);
    const set = await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY, "RITM1");
    expect(set.kind).toBe("set");
    expect((await old.get("/profile")).statusCode).toBe(303);
    await t.smtp.waitForMessage((m) => m.envelopeTo.includes("tp.one@dealer.example") && /reset by your retail IT team/.test(m.subject));

    // The old password no longer works; the temporary one does.
    expect((await submitPassword(new FormClient(t.app), "tp.one", user.password)).statusCode).toBe(401);
    const client = new FormClient(t.app);
    const confirmed = await signInWithCode(client, "tp.one", TEMPORARY, "tp.one@dealer.example");
    expect(confirmed.headers.location).toBe("/choose-password");
    for (const path of ["/", "/profile", "/support", "/quotation"]) {
      const answer = await client.get(path);
      expect(answer.statusCode, path).toBe(303);
      expect(answer.headers.location, path).toBe("/choose-password");
    }
    expect((await t.app.inject({ method: "GET", url: "/auth/nginx", headers: { cookie: client.cookieHeader() } })).statusCode).toBe(401);
    const page = await client.get("/choose-password");
    expect(page.body).toContain("Choose a new password");
    expect(page.body).toContain("New password");
    expect(page.body).toContain("Confirm new password");

    // Used once: a second sign-in with it is refused like a wrong password, while this session goes on.
    expect((await submitPassword(new FormClient(t.app), "tp.one", TEMPORARY)).statusCode).toBe(401);

    // The Profile rules, and not the temporary password again.
    const mismatch = await client.post("/choose-password", { newPassword: "a brand new secret", confirmNewPassword: "another secret!!" });
    expect(mismatch.statusCode).toBe(400);
    expect((await client.post("/choose-password", { newPassword: "short", confirmNewPassword: "short" })).statusCode).toBe(400);
    const same = await client.post("/choose-password", { newPassword: TEMPORARY, confirmNewPassword: TEMPORARY });
    expect(same.statusCode).toBe(400);
    expect(same.body).toContain("That is the temporary password");

    const chosen = await client.post("/choose-password", { newPassword: "a brand new secret", confirmNewPassword: "a brand new secret" });
    expect(chosen.statusCode).toBe(303);
    expect(chosen.headers.location).toBe("/");
    expect((await client.get("/profile")).statusCode).toBe(200);
    expect((await findUserById(t.deps.db, user.id))!.password_temporary_until).toBeNull();
    expect((await submitPassword(new FormClient(t.app), "tp.one", TEMPORARY)).statusCode).toBe(401);
    expect((await submitPassword(new FormClient(t.app), "tp.one", "a brand new secret")).statusCode).toBe(303);

    const events = (await queryAudit(t.deps.db, { subject: "tp.one" })).map((e) => e.event);
    expect(events).toContain("password.temporary-set");
    expect(events).toContain("password.changed");
    const setEvent = (await queryAudit(t.deps.db, { subject: "tp.one", event: "password.temporary-set" }))[0]!;
    expect(JSON.stringify(setEvent)).not.toContain(TEMPORARY);
  });

  it("refuses an expired temporary password with the wrong-password answer", async () => {
    const user = await addUser(t.deps, { loginId: "tp.late", email: "tp.late@dealer.example" });
    await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY);
    t.clock.advance(72 * 3_600_000);
    const answer = await submitPassword(new FormClient(t.app), "tp.late", TEMPORARY);
    expect(answer.statusCode).toBe(401);
    expect(answer.body).toContain("The login ID or password is not right");
    const failed = await queryAudit(t.deps.db, { subject: "tp.late", event: "password.failed" });
    expect(failed[0]!.detail.reason).toBe("temporary-password-expired");
  });

  it("refuses a temporary password that breaks the password rules, and changes nothing", async () => {
    const user = await addUser(t.deps, { loginId: "tp.rules" });
    const outcome = await setTemporaryPassword(t.deps, operator, user.id, "password");
    expect(outcome.kind).toBe("invalid");
    expect((await findUserById(t.deps.db, user.id))!.password_hash).toBe(user.password_hash);
  });

  it("a support person cannot set one for an administrator, nor for their own account", async () => {
    const admin = await addUser(t.deps, { loginId: "tp.admin", role: "admin" });
    const support = await addUser(t.deps, { loginId: "tp.support", role: "support" });
    const by = { user: support, audit: { actor: "tp.support", ip: "127.0.0.1", userAgent: "t" } };
    expect((await setTemporaryPassword(t.deps, by, admin.id, TEMPORARY)).kind).toBe("forbidden");
    expect((await setTemporaryPassword(t.deps, by, support.id, TEMPORARY)).kind).toBe("forbidden");
  });

  // SECURITY.md 18: "Choose a new password" reached before the wave is a password-only session and still
  // ends at the start (the cut stands). The temporary password it spent is spent only until then: from
  // the start it signs in once more, now with the second factor, where one is on file to meet (an OTP
  // email address, a passkey or an app); with none it stays spent, as enrolling one would let whoever
  // read the ticket type an address of their own.
  async function choiceCutByTheStart(loginId: string, partner: string, email: string | null) {
    const start = t.clock.now();
    await setWaveStart(t.deps.db, partner, start + 20 * 60_000, start, "test");
    const user = await addUser(t.deps, { loginId, email, partnerNumber: partner });
    expect((await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY)).kind).toBe("set");
    const client = new FormClient(t.app);
    expect((await submitPassword(client, loginId, TEMPORARY)).headers.location).toBe("/choose-password");
    await client.get("/choose-password");
    // Spent before the start: a second browser with it is refused, as before.
    expect((await submitPassword(new FormClient(t.app), loginId, TEMPORARY)).statusCode).toBe(401);
    const hashBefore = (await findUserById(t.deps.db, user.id))!.password_hash;
    t.clock.set(start + 21 * 60_000);
    const late = await client.post("/choose-password", { newPassword: "a brand new secret", confirmNewPassword: "a brand new secret" });
    expect([late.statusCode, late.headers.location]).toEqual([303, "/login?ended=form"]);
    expect((await client.get("/login?ended=form")).body).toContain("nothing was done: sign in and do it again");
    expect((await findUserById(t.deps.db, user.id))!.password_hash).toBe(hashBefore);
    expect((await submitPassword(new FormClient(t.app), loginId, "a brand new secret")).statusCode).toBe(401);
    return { start, user };
  }

  it("\"Choose a new password\" opened before the wave and sent after its start: nothing changed, sign-in says so, and once an address is on file (the IT team's import) the temporary password goes on with the code", async () => {
    const { start, user } = await choiceCutByTheStart("tp.wave", "tp-wave", null);
    try {
      await confirmOtpEmail(t.deps.db, user.id, "tp.wave@dealer.example", t.clock.now());
      // The temporary password again, now with the second factor: the code to the address on file, then the choice.
      const again = new FormClient(t.app);
      const before = t.smtp.messages.length;
      expect((await submitPassword(again, "tp.wave", TEMPORARY)).headers.location).toMatch(/^\/otp/);
      await again.get("/otp");
      const confirmed = await again.post("/otp", { code: await nextCode(t.smtp, "tp.wave@dealer.example", before) });
      expect(confirmed.headers.location).toBe("/choose-password");
      // Used up now for good: no third sign-in with it.
      expect((await submitPassword(new FormClient(t.app), "tp.wave", TEMPORARY)).statusCode).toBe(401);
      await again.get("/choose-password");
      const chosen = await again.post("/choose-password", { newPassword: "a brand new secret", confirmNewPassword: "a brand new secret" });
      expect(chosen.headers.location).toBe("/");
      expect((await again.get("/profile")).statusCode).toBe(200);
      expect((await findUserById(t.deps.db, user.id))!.password_temporary_until).toBeNull();
    } finally {
      t.clock.set(start);
    }
  });

  it("with no second factor on file, a temporary password spent before the wave stays spent at its start: nobody enrols an address with it; support's new one works", async () => {
    const { start, user } = await choiceCutByTheStart("tp.wave.none", "tp-wave-none", null);
    try {
      const reader = new FormClient(t.app, "10.9.0.8");
      const refused = await submitPassword(reader, "tp.wave.none", TEMPORARY);
      expect(refused.statusCode).toBe(401);
      expect((await reader.get("/enrol")).headers.location ?? "").toMatch(/^\/login/);
      expect((await findUserById(t.deps.db, user.id))!.otp_email).toBeNull();
      // Support sets a new one: it signs in, to "User profile" (the wave has started).
      expect((await setTemporaryPassword(t.deps, operator, user.id, "tmp-pass-word-4712")).kind).toBe("set");
      expect((await submitPassword(new FormClient(t.app), "tp.wave.none", "tmp-pass-word-4712")).headers.location).toBe("/enrol");
    } finally {
      t.clock.set(start);
    }
  });

  it("a temporary password spent before the wave stays spent when it runs out meanwhile", async () => {
    const start = t.clock.now();
    await setWaveStart(t.deps.db, "tp-wave-late", start + 20 * 60_000, start, "test");
    const user = await addUser(t.deps, { loginId: "tp.wave.late", email: null, partnerNumber: "tp-wave-late" });
    await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY);
    expect((await submitPassword(new FormClient(t.app), "tp.wave.late", TEMPORARY)).headers.location).toBe("/choose-password");
    t.clock.set(start + 72 * 3_600_000);
    try {
      expect((await submitPassword(new FormClient(t.app), "tp.wave.late", TEMPORARY)).statusCode).toBe(401);
    } finally {
      t.clock.set(start);
    }
  });
});
