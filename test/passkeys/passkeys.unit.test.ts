import { loginCounterKey } from "../support/login-counter.ts";
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eraseUser } from "../../src/account/erase.ts";
import { listPasskeys } from "../../src/passkeys/passkeys.ts";
import { FormClient, signIn, submitPassword, type TestUser } from "../support/client.ts";
import { SoftAuthenticator, type Ceremony } from "../support/soft-authenticator.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/** What app.inject's requests look like to FAMOS: Host localhost:80, so this origin and RP ID "localhost". */
const ORIGIN = "http://localhost:80";
const JSON_ACCEPT = { headers: { accept: "application/json" } };

/** Issue 13, passkeys: WebAuthn Level 3 §7.1/§7.2 checks, ASVS 2.7/2.8 and NIST SP 800-63B 5.2.2 counting. */
describe("passkeys (unit tier)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  async function fullClient(user?: TestUser): Promise<{ client: FormClient; user: TestUser }> {
    const { client, user: who } = await signIn(u, { ...(user ? { user } : {}), page: "/profile" });
    return { client, user: who };
  }

  /** Profile → "Add a passkey", as the browser module does it: options (JSON), then the answer as a form. */
  async function addPasskey(client: FormClient, auth: SoftAuthenticator, at: Partial<Ceremony> = {}, fields: Record<string, string> = {}) {
    const start = await client.post("/profile/passkeys/options", { name: "Work laptop", ...fields }, JSON_ACCEPT);
    if (start.statusCode !== 200) return { start, finish: null };
    const options = (start.json() as { options: PublicKeyCredentialCreationOptionsJSON }).options;
    const credential = auth.create(options, { origin: ORIGIN, ...at });
    const finish = await client.post("/profile/passkeys", { name: fields.name ?? "Work laptop", credential: JSON.stringify(credential) });
    return { start, finish, options };
  }

  async function userWithPasskey(flags: ConstructorParameters<typeof SoftAuthenticator>[0] = {}) {
    const auth = new SoftAuthenticator(flags);
    const { client, user } = await fullClient();
    const { finish } = await addPasskey(client, auth);
    // The first strong factor brings the recovery codes, shown once.
    expect(finish?.statusCode).toBe(200);
    expect(finish?.body).toContain("Save your recovery codes");
    return { auth, user };
  }

  /** Password, then "Use a passkey instead" on OTP capture. */
  async function passkeySignIn(user: TestUser, auth: SoftAuthenticator, at: Partial<Ceremony> = {}, client?: FormClient) {
    const signedIn = await signIn(u, { user, until: "otp", ...(client ? { client } : {}) });
    const start = await signedIn.client.post("/otp/passkey/options", {}, JSON_ACCEPT);
    expect(start.statusCode).toBe(200);
    const options = (start.json() as { options: PublicKeyCredentialRequestOptionsJSON }).options;
    const assertion = auth.get(options, { origin: ORIGIN, ...at });
    const answer = await signedIn.client.post("/otp/passkey", { credential: JSON.stringify(assertion) });
    return { ...signedIn, answer, options, assertion };
  }

  const events = async (loginId: string) =>
    (await u.deps.db.selectFrom("audit").select(["event", "detail"]).where("subject", "=", loginId).orderBy("id").execute()).map((r) => [r.event, r.detail]);

  it("adds a passkey on Profile after a recent code, lists it, and signs in with password + passkey exactly as a code does", async () => {
    const auth = new SoftAuthenticator();
    const { client, user } = await fullClient();
    const { finish, options } = await addPasskey(client, auth);
    // The first strong factor brings ten recovery codes, shown once, and audited.
    expect(finish?.statusCode).toBe(200);
    expect(finish?.body).toContain("Save your recovery codes");
    expect(finish?.body).toContain("The passkey was added.");
    expect(await u.deps.db.selectFrom("recovery_codes").select("id").where("user_id", "=", user.id).execute()).toHaveLength(10);
    // A second passkey brings no new set: back to Profile.
    const phone = await addPasskey(client, new SoftAuthenticator(), {}, { name: "Phone" });
    expect(phone.finish?.statusCode).toBe(303);
    expect(phone.finish?.headers.location).toBe("/profile?passkey=added#passkeys");
    expect(options?.authenticatorSelection?.userVerification).toBe("required");
    expect(options?.rp.id).toBe("localhost");
    const profile = await client.get("/profile?passkey=added");
    expect(profile.body).toContain("Work laptop");
    expect(profile.body).toContain("The passkey was added.");
    expect(profile.body).toContain("Phone");
    // With passkeys as the only strong factor, Profile's factors section offers the recovery codes.
    expect(profile.body).toContain("Recovery codes left: 10 of 10.");
    const stored = (await listPasskeys(u.deps.db, user.id)).find((p) => p.name === "Work laptop");
    expect(stored).toMatchObject({ name: "Work laptop", lastUsedAt: null });

    u.clock.advance(60_000);
    const { client: second, answer, code } = await passkeySignIn(user, auth);
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe("/");
    expect(answer.cookies.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(["famos_session", "famos_device"]));
    expect((await second.get("/profile")).statusCode).toBe(200);
    // The emailed code of that sign-in is void: the flow is finished.
    const row = await u.deps.db.selectFrom("codes").select(["consumed_at", "voided_at", "void_reason"]).orderBy("created_at", "desc").executeTakeFirstOrThrow();
    expect(row.void_reason).toBe("passkey");
    expect(code).toMatch(/^\d{6}$/);
    const used = (await listPasskeys(u.deps.db, user.id)).find((p) => p.name === "Work laptop");
    expect(used!.lastUsedAt).toBe(u.clock.now());
    const log = (await events(user.login_id)).map(([e]) => e);
    expect(log).toEqual(expect.arrayContaining(["passkey.added", "passkey.confirmed"]));
  });

  it("offers \"Use a passkey instead\" on OTP capture only to a user who has one", async () => {
    const plain = await signIn(u, { until: "otp" });
    expect((await plain.client.get("/otp")).body).not.toContain("Use a passkey instead");
    const { user } = await userWithPasskey();
    const withOne = await signIn(u, { user, until: "otp" });
    const page = await withOne.client.get("/otp");
    expect(page.body).toContain("Use a passkey instead");
    expect(page.body).toContain('src="/static/passkeys.js"');
    expect(page.body).not.toMatch(/<script>(?!<\/script>)/);
  });

  it("refuses an assertion without user verification (WebAuthn UV flag), counted and audited", async () => {
    const { auth, user } = await userWithPasskey();
    const { answer } = await passkeySignIn(user, auth, { userVerified: false });
    expect(answer.statusCode).toBe(401);
    expect(answer.body).toContain("did not confirm it was you");
    expect(await events(user.login_id)).toContainEqual(["passkey.failed", expect.stringContaining('"not-verified"')]);
    const throttle = await u.deps.db.selectFrom("throttles").select(["key", "failures"]).where("key", "=", loginCounterKey("code", user.login_key)).execute();
    expect(throttle.some((t) => t.failures >= 1)).toBe(true);
  });

  it("refuses to add a passkey that did not verify its user", async () => {
    const { client, user } = await fullClient();
    const { finish } = await addPasskey(client, new SoftAuthenticator(), { userVerified: false });
    expect(finish?.statusCode).toBe(400);
    expect(finish?.body).toContain("did not confirm it was you");
    expect(await listPasskeys(u.deps.db, user.id)).toEqual([]);
  });

  it("refuses an assertion made for another origin, or over another RP ID", async () => {
    const { auth, user } = await userWithPasskey();
    const foreign = await passkeySignIn(user, auth, { origin: "http://localhost.evil.example" });
    expect(foreign.answer.statusCode).toBe(401);
    const otherRp = await passkeySignIn(user, auth, { rpId: "evil.example" });
    expect(otherRp.answer.statusCode).toBe(401);
    const failed = (await events(user.login_id)).filter(([e]) => e === "passkey.failed");
    expect(failed).toHaveLength(2);
    // Registration is checked the same way.
    const { client } = await fullClient(user);
    const { finish } = await addPasskey(client, new SoftAuthenticator(), { origin: "http://evil.example" });
    expect(finish?.statusCode).toBe(400);
  });

  it("refuses a signature counter that went back (a cloned authenticator), and audits it", async () => {
    const { auth, user } = await userWithPasskey();
    expect((await passkeySignIn(user, auth, { counter: 5 })).answer.statusCode).toBe(303);
    const [after] = await u.deps.db.selectFrom("passkeys").select("sign_count").where("user_id", "=", user.id).execute();
    expect(Number(after!.sign_count)).toBe(5);
    const clone = await passkeySignIn(user, auth, { counter: 3 });
    expect(clone.answer.statusCode).toBe(401);
    expect(clone.answer.body).toContain("suggests it was copied");
    expect((await events(user.login_id)).map(([e]) => e)).toContain("passkey.counter-regressed");
    const same = await passkeySignIn(user, auth, { counter: 5 });
    expect(same.answer.statusCode).toBe(401);
    // A counter that stayed where it was is the same warning sign as one that went back (§6.1.1).
    expect(same.answer.body).toContain("suggests it was copied");
    expect((await events(user.login_id)).filter(([e]) => e === "passkey.counter-regressed")).toHaveLength(2);
    expect((await passkeySignIn(user, auth, { counter: 6 })).answer.statusCode).toBe(303);
  });

  it("refuses a passkey whose backup eligibility changed since it was added (WebAuthn §6.1.3)", async () => {
    const { auth, user } = await userWithPasskey();
    await u.deps.db.updateTable("passkeys").set({ device_type: "multiDevice" }).where("user_id", "=", user.id).execute();
    expect((await passkeySignIn(user, auth)).answer.statusCode).toBe(401);
    await u.deps.db.updateTable("passkeys").set({ device_type: "singleDevice" }).where("user_id", "=", user.id).execute();
    expect((await passkeySignIn(user, auth)).answer.statusCode).toBe(303);
  });

  it("stores a synced passkey's backup flags", async () => {
    const { user } = await userWithPasskey({ backupEligible: true, backedUp: true });
    const row = await u.deps.db.selectFrom("passkeys").select(["device_type", "backed_up"]).where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ device_type: "multiDevice", backed_up: 1 });
  });

  it("uses a challenge once, and only in the session that asked for it", async () => {
    const { auth, user } = await userWithPasskey();
    const first = await passkeySignIn(user, auth);
    expect(first.answer.statusCode).toBe(303);
    // The same answer again, in a new sign-in: its challenge was used (and belonged to another session).
    const again = await signIn(u, { user, until: "otp" });
    const replay = await again.client.post("/otp/passkey", { credential: JSON.stringify(auth.get(first.options, { origin: ORIGIN, challenge: first.options.challenge })) });
    expect(replay.statusCode).toBe(401);
    // A challenge answered once (wrongly) cannot be answered again, even rightly, in the same session.
    const retry = await signIn(u, { user, until: "otp" });
    const once = ((await retry.client.post("/otp/passkey/options", {}, JSON_ACCEPT)).json() as { options: PublicKeyCredentialRequestOptionsJSON }).options;
    expect((await retry.client.post("/otp/passkey", { credential: JSON.stringify(auth.get(once, { origin: ORIGIN, userVerified: false })) })).statusCode).toBe(401);
    expect((await retry.client.post("/otp/passkey", { credential: JSON.stringify(auth.get(once, { origin: ORIGIN })) })).statusCode).toBe(401);
    // Another session's unused challenge does not work here.
    const mine = await signIn(u, { user, until: "otp" });
    const theirs = await signIn(u, { user, until: "otp" });
    const issued = ((await theirs.client.post("/otp/passkey/options", {}, JSON_ACCEPT)).json() as { options: PublicKeyCredentialRequestOptionsJSON }).options;
    expect((await mine.client.post("/otp/passkey", { credential: JSON.stringify(auth.get(issued, { origin: ORIGIN })) })).statusCode).toBe(401);
    expect((await theirs.client.post("/otp/passkey", { credential: JSON.stringify(auth.get(issued, { origin: ORIGIN })) })).statusCode).toBe(303);
    // A challenge that has expired.
    const late = await signIn(u, { user, until: "otp" });
    const options = (await late.client.post("/otp/passkey/options", {}, JSON_ACCEPT)).json() as { options: PublicKeyCredentialRequestOptionsJSON };
    u.clock.advance(5 * 60_000 + 1);
    expect((await late.client.post("/otp/passkey", { credential: JSON.stringify(auth.get(options.options, { origin: ORIGIN })) })).statusCode).toBe(401);
  });

  it("counts failed passkeys toward the same lock as wrong codes (NIST SP 800-63B 5.2.2)", async () => {
    const { auth, user } = await userWithPasskey();
    const { client } = await signIn(u, { user, until: "otp" });
    const lockAfter = u.config.lock.after;
    for (let i = 0; i < lockAfter; i += 1) {
      const options = ((await client.post("/otp/passkey/options", {}, JSON_ACCEPT)).json() as { options: PublicKeyCredentialRequestOptionsJSON }).options;
      const answer = await client.post("/otp/passkey", { credential: JSON.stringify(auth.get(options, { origin: ORIGIN, userVerified: false })) });
      expect(answer.statusCode).toBe(401);
    }
    const options = ((await client.post("/otp/passkey/options", {}, JSON_ACCEPT)).json() as { options: PublicKeyCredentialRequestOptionsJSON }).options;
    const right = await client.post("/otp/passkey", { credential: JSON.stringify(auth.get(options, { origin: ORIGIN })) });
    expect(right.statusCode).toBe(429);
    expect(right.body).toContain("Too many failed attempts");
    expect((await events(user.login_id)).map(([e]) => e)).toContain("lock.started");
  });

  it("a passkey whose counter another request moved first gives no sign-in, no \"confirmed\" audit, and keeps the failure count", async () => {
    const { auth, user } = await userWithPasskey();
    const { client } = await signIn(u, { user, until: "otp" });
    const lockAfter = u.config.lock.after;
    const ask = async () => ((await client.post("/otp/passkey/options", {}, JSON_ACCEPT)).json() as { options: PublicKeyCredentialRequestOptionsJSON }).options;
    for (let i = 0; i < lockAfter - 1; i += 1) {
      expect((await client.post("/otp/passkey", { credential: JSON.stringify(auth.get(await ask(), { origin: ORIGIN, userVerified: false })) })).statusCode).toBe(401);
    }
    // The other request: the same passkey, answered in another tab, lands between this assertion's
    // check and its use (when this one's challenge is used up, the stored counter moves on).
    const [row] = await u.deps.db.selectFrom("passkeys").select("id").where("user_id", "=", user.id).execute();
    const fullSessions = async () => (await u.deps.db.selectFrom("sessions").select("id").where("user_id", "=", user.id).where("stage", "=", "full").execute()).map((r) => r.id);
    const before = await fullSessions();
    await sql`create temp trigger other_tab after update of used_at on passkey_challenges begin update passkeys set sign_count = sign_count + 1000 where id = ${sql.lit(row!.id)}; end`.execute(u.deps.db);
    try {
      const raced = await client.post("/otp/passkey", { credential: JSON.stringify(auth.get(await ask(), { origin: ORIGIN })) });
      expect(raced.statusCode).toBe(401);
    } finally {
      await sql`drop trigger other_tab`.execute(u.deps.db);
    }
    expect((await events(user.login_id)).map(([e]) => e)).not.toContain("passkey.confirmed");
    expect(await fullSessions()).toEqual(before);
    // The lost race neither counted as a guess nor cleared the guesses before it: one more wrong one locks.
    expect((await client.post("/otp/passkey", { credential: JSON.stringify(auth.get(await ask(), { origin: ORIGIN, userVerified: false })) })).statusCode).toBe(401);
    const right = await client.post("/otp/passkey", { credential: JSON.stringify(auth.get(await ask(), { origin: ORIGIN, counter: 5000 })) });
    expect(right.statusCode).toBe(429);
  });

  it("removes a passkey (a fresh proof needed), after which it no longer signs in", async () => {
    const { auth, user } = await userWithPasskey();
    const { client } = await fullClient(user);
    const [passkey] = await listPasskeys(u.deps.db, user.id);
    u.clock.advance(16 * 60_000);
    await client.get("/profile");
    expect((await client.post(`/profile/passkeys/${passkey!.id}/remove`, {})).statusCode).toBe(401);
    expect((await client.post(`/profile/passkeys/${passkey!.id}/remove`, { password: "not the password" })).statusCode).toBe(401);
    const removed = await client.post(`/profile/passkeys/${passkey!.id}/remove`, { password: user.password });
    expect(removed.statusCode).toBe(303);
    expect(await listPasskeys(u.deps.db, user.id)).toEqual([]);
    expect((await events(user.login_id)).map(([e]) => e)).toContain("passkey.removed");

    const otp = await signIn(u, { user, until: "otp" });
    expect((await otp.client.get("/otp")).body).not.toContain("Use a passkey instead");
    expect((await otp.client.post("/otp/passkey/options", {}, JSON_ACCEPT)).statusCode).toBe(409);
    const options = { challenge: "c3RhbGU", rpId: "localhost" } as PublicKeyCredentialRequestOptionsJSON;
    expect((await otp.client.post("/otp/passkey", { credential: JSON.stringify(auth.get(options, { origin: ORIGIN })) })).statusCode).toBe(401);
  });

  it("cannot remove another user's passkey", async () => {
    const { user: owner } = await userWithPasskey();
    const [theirs] = await listPasskeys(u.deps.db, owner.id);
    const { client } = await fullClient();
    expect((await client.post(`/profile/passkeys/${theirs!.id}/remove`, {})).statusCode).toBe(404);
    expect(await listPasskeys(u.deps.db, owner.id)).toHaveLength(1);
  });

  it("asks for the password to add a passkey when no code was confirmed recently", async () => {
    const { client, user } = await fullClient();
    u.clock.advance(16 * 60_000);
    await client.get("/profile");
    const needed = await addPasskey(client, new SoftAuthenticator());
    expect(needed.start.statusCode).toBe(401);
    const wrong = await addPasskey(client, new SoftAuthenticator(), {}, { password: "wrong password here" });
    expect(wrong.start.statusCode).toBe(401);
    const right = await addPasskey(client, new SoftAuthenticator(), {}, { password: user.password });
    expect(right.finish?.statusCode).toBe(200);
  });

  it("without JavaScript, says that passkeys need it, and changes nothing", async () => {
    const { client, user } = await fullClient();
    const page = await client.post("/profile/passkeys/options", { name: "Laptop" });
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain("needs JavaScript");
    const finish = await client.post("/profile/passkeys", { name: "Laptop", credential: "" });
    expect(finish.statusCode).toBe(400);
    expect(await listPasskeys(u.deps.db, user.id)).toEqual([]);
    const { user: holder } = await userWithPasskey();
    const otp = await signIn(u, { user: holder, until: "otp" });
    expect((await otp.client.post("/otp/passkey/options", {})).body).toContain("needs JavaScript");
    expect((await otp.client.post("/otp/passkey", { credential: "{not json" })).statusCode).toBe(400);
  });

  it("refuses a nameless passkey, and a name over 64 characters", async () => {
    const { client } = await fullClient();
    expect((await client.post("/profile/passkeys/options", { name: "   " }, JSON_ACCEPT)).statusCode).toBe(400);
    expect((await client.post("/profile/passkeys/options", { name: "x".repeat(65) }, JSON_ACCEPT)).statusCode).toBe(400);
  });

  it("takes a name an iPhone types with an emoji (\"❤️ phone\": U+FE0F after the pictograph) through Profile, shows it and mails it as typed; a stray selector stays refused", async () => {
    const { client, user } = await fullClient();
    const heart = "\u2764\ufe0f phone";
    const stray = await client.post("/profile/passkeys/options", { name: "Phone\ufe0f" }, JSON_ACCEPT);
    expect(stray.statusCode).toBe(400);
    expect(stray.body).toContain("The name must not contain invisible or control characters");
    const { start, finish } = await addPasskey(client, new SoftAuthenticator(), {}, { name: heart });
    expect(start.statusCode).toBe(200);
    expect(finish?.statusCode).toBe(200);
    expect((await listPasskeys(u.deps.db, user.id)).map((p) => p.name)).toEqual([heart]);
    expect((await client.get("/profile")).body).toContain(heart);
    const mails = await u.deps.db.selectFrom("outbox").select("text_body").where("user_id", "=", user.id).where("kind", "=", "notice.factor-changed").execute();
    expect(mails.map((m) => m.text_body.includes(heart) && !m.text_body.includes("\ufffd"))).toEqual([true]);
  });

  it("does not let a passkey confirm an enrolment's address (it proves nothing about the mailbox)", async () => {
    const { auth, user } = await userWithPasskey();
    await u.deps.db.updateTable("users").set({ otp_email: null, otp_email_confirmed_at: null }).where("id", "=", user.id).execute();
    // No OTP email but a passkey: the passkey first (the password alone reaches no "User profile"), then the address.
    const client = new FormClient(u.app);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    await client.get("/otp");
    const first = ((await client.post("/otp/passkey/options", {}, JSON_ACCEPT)).json() as { options: PublicKeyCredentialRequestOptionsJSON }).options;
    expect((await client.post("/otp/passkey", { credential: JSON.stringify(auth.get(first, { origin: ORIGIN })) })).headers.location).toBe("/enrol");
    await client.get("/enrol");
    await client.post("/enrol", { email: "new.box@dealer.example", confirmEmail: "new.box@dealer.example" });
    await client.get("/otp");
    expect((await client.post("/otp/passkey/options", {}, JSON_ACCEPT)).statusCode).toBe(409);
    const options = { challenge: "c3RhbGU", rpId: "localhost" } as PublicKeyCredentialRequestOptionsJSON;
    const answer = await client.post("/otp/passkey", { credential: JSON.stringify(auth.get(options, { origin: ORIGIN })) });
    expect(answer.statusCode).toBe(401);
    const row = await u.deps.db.selectFrom("users").select("otp_email").where("id", "=", user.id).executeTakeFirstOrThrow();
    expect(row.otp_email).toBeNull();
  });

  it("erasing an account removes its passkeys", async () => {
    const { user } = await userWithPasskey();
    const outcome = await eraseUser(u.deps, { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } }, user.id);
    expect(outcome.kind).toBe("erased");
    expect(await u.deps.db.selectFrom("passkeys").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
  });

  it("serves the browser library and module from the app", async () => {
    const visitor = new FormClient(u.app);
    const lib = await visitor.get("/static/vendor/simplewebauthn-browser.js");
    expect(lib.statusCode).toBe(200);
    expect(lib.body).toContain("SimpleWebAuthnBrowser");
    expect((await visitor.get("/static/passkeys.js")).statusCode).toBe(200);
  });
});

