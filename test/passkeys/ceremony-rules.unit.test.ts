import { loginCounterKey } from "../support/login-counter.ts";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { isoBase64URL, isoCBOR } from "@simplewebauthn/server/helpers";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { finishFlow, findFlow, createFlow } from "../../src/otp/flows.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { issueChallenge, CHALLENGE_TTL_MS } from "../../src/passkeys/challenges.ts";
import { MAX_CREDENTIAL_JSON, parseAuthenticationJson, parseRegistrationJson } from "../../src/passkeys/credential-json.ts";
import { PASSKEY_TEXT } from "../../src/passkeys/messages.ts";
import { hasPasskeys, listPasskeys, passkeySummary, removeAllPasskeys, removePasskey } from "../../src/passkeys/passkeys.ts";
import { finishPasskeyRegistration, MAX_PASSKEY_NAME, MAX_PASSKEYS, startPasskeyRegistration } from "../../src/passkeys/registration.ts";
import type { RelyingParty } from "../../src/passkeys/relying-party.ts";
import { removeOwnPasskey } from "../../src/passkeys/removal.ts";
import { confirmPasskey, passkeyOffered, passkeySignInOptions } from "../../src/passkeys/sign-in.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { loginKey, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { SoftAuthenticator, type Ceremony } from "../support/soft-authenticator.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const RP: RelyingParty = { origin: "https://famos.test", rpId: "famos.test" };
const MINUTE = 60_000;
type TestUser = User & { password: string };

/**
 * Each WebAuthn rule the passkey ceremonies enforce (WebAuthn Level 3 §7.1 registration, §7.2
 * authentication; ASVS 3.7.1 fresh proof; NIST SP 800-63B 5.2.2 counting), broken one at a time by
 * the software authenticator, on the domain functions over in-memory SQLite and a fixed clock.
 */
describe("the passkey ceremonies' rules (unit tier)", () => {
  const unit = useUnitDeps();
  let n = 0;
  const ctx = (): RequestContext => ({ ip: `192.0.2.${(++n % 250) + 1}`, userAgent: "ceremony-test" });
  const now = () => unit.now();
  const db = () => unit.db;

  const audits = async (user: User) =>
    (await db().selectFrom("audit").select(["event", "detail", "actor", "ip"]).where("subject", "=", user.login_id).orderBy("id").execute()).map((a) => ({
      event: a.event,
      detail: a.detail === null ? null : (JSON.parse(a.detail) as Record<string, unknown>),
      actor: a.actor,
    }));
  const events = async (user: User) => (await audits(user)).map((a) => a.event);
  const failures = async (user: User) =>
    (await db().selectFrom("throttles").select("failures").where("key", "=", loginCounterKey("code", loginKey(user.login_id))).executeTakeFirst())?.failures ?? 0;
  const clearFailures = (user: User) => db().deleteFrom("throttles").where("key", "=", loginCounterKey("code", loginKey(user.login_id))).execute();
  const rows = (user: User) => db().selectFrom("passkeys").selectAll().where("user_id", "=", user.id).orderBy("created_at").orderBy("id").execute();
  const metric = async (m: { get(): Promise<{ values: Array<{ value: number; labels: Partial<Record<string, string | number>> }> }> }, outcome?: string) =>
    (await m.get()).values.filter((v) => outcome === undefined || v.labels.outcome === outcome).reduce((s, v) => s + v.value, 0);
  const challengeRow = (challenge: string) =>
    db().selectFrom("passkey_challenges").selectAll().where("challenge_hash", "=", createHash("sha256").update(challenge).digest("base64url")).executeTakeFirst();

  /** A signed-in Profile session whose code was confirmed just now: a fresh proof (ASVS 3.7.1). */
  async function fullSession(user: User, verifiedAt: number | null = now()): Promise<Session> {
    const { session } = await createSession(db(), unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "ceremony-test" });
    await db().updateTable("sessions").set({ verified_at: verifiedAt }).where("id", "=", session.id).execute();
    return { ...session, verified_at: verifiedAt };
  }

  /** Profile → "Add a passkey": options, the authenticator's answer, the finish. */
  async function register(user: User, session: Session, auth: SoftAuthenticator, at: Partial<Ceremony> = {}, name = "Work laptop", edit?: (c: RegistrationResponseJSON) => void) {
    const start = await startPasskeyRegistration(unit.deps, user, session, { name, password: null }, RP, ctx());
    if (start.kind !== "options") throw new Error(`start: ${JSON.stringify(start)}`);
    const credential = auth.create(start.options, { origin: RP.origin, ...at });
    edit?.(credential);
    const outcome = await finishPasskeyRegistration(unit.deps, user, session, { name, credential: JSON.stringify(credential) }, RP, ctx());
    return { options: start.options, credential, outcome };
  }

  async function userWithPasskey(flags: ConstructorParameters<typeof SoftAuthenticator>[0] = {}, at: Partial<Ceremony> = {}): Promise<{ user: TestUser; auth: SoftAuthenticator }> {
    const user = await addUser(unit.deps);
    const auth = new SoftAuthenticator(flags);
    const { outcome } = await register(user, await fullSession(user), auth, at);
    expect(outcome.kind).toBe("added");
    return { user, auth };
  }

  /** Past the password: OTP capture of a sign-in flow, its code mailed. */
  async function atOtp(user: TestUser): Promise<Session> {
    const step = await passwordStep(unit.deps, { loginId: user.login_id, password: user.password }, ctx());
    if (step.kind !== "code") throw new Error(`password step: ${step.kind}`);
    return step.session;
  }

  async function ask(user: User, session: Session): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await passkeySignInOptions(unit.deps, user, session, RP);
    if (!options) throw new Error("no passkey options");
    return options;
  }

  /** "Use a passkey instead": options, the assertion (edited if asked), the confirm. */
  async function answer(user: User, session: Session, auth: SoftAuthenticator, at: Partial<Ceremony> = {}, edit?: (a: AuthenticationResponseJSON) => void) {
    const options = await ask(user, session);
    const assertion = auth.get(options, { origin: RP.origin, ...at });
    edit?.(assertion);
    return { options, assertion, outcome: await confirmPasskey(unit.deps, user, session, JSON.stringify(assertion), RP, ctx()) };
  }

  describe("the credential JSON", () => {
    const auth = new SoftAuthenticator();
    const creation = { challenge: "Y2hhbGxlbmdl", rp: { id: "famos.test", name: "FAMOS" } } as PublicKeyCredentialCreationOptionsJSON;
    const request = { challenge: "Y2hhbGxlbmdl", rpId: "famos.test" } as PublicKeyCredentialRequestOptionsJSON;
    const created = () => JSON.parse(JSON.stringify(auth.create(creation, { origin: RP.origin }))) as Record<string, any>;
    const asserted = () => JSON.parse(JSON.stringify(auth.get(request, { origin: RP.origin }))) as Record<string, any>;

    it("takes what a browser sends, and keeps what it does not know (passthrough)", () => {
      const reg: Record<string, any> = { ...created(), authenticatorAttachment: "platform", extra: 1 };
      reg.response.publicKey = "kept";
      expect(parseRegistrationJson(JSON.stringify(reg))).toEqual(reg);
      const get: Record<string, any> = { ...asserted(), authenticatorAttachment: "cross-platform" };
      get.response.userHandle = "dXNlcg";
      get.response.extra = true;
      expect(parseAuthenticationJson(JSON.stringify(get))).toEqual(get);
      // At most MAX_CREDENTIAL_JSON characters (8 KB), up to the last one.
      const text = JSON.stringify(asserted());
      expect(parseAuthenticationJson(text.padEnd(MAX_CREDENTIAL_JSON, " "))).not.toBeNull();
      expect(parseAuthenticationJson(text.padEnd(MAX_CREDENTIAL_JSON + 1, " "))).toBeNull();
      expect(parseRegistrationJson(JSON.stringify(created()).padEnd(MAX_CREDENTIAL_JSON + 1, " "))).toBeNull();
      // Base64url fields up to 4096 characters, at least one, of the base64url alphabet only.
      const long = asserted();
      long.id = "A".repeat(4096);
      expect(parseAuthenticationJson(JSON.stringify(long))).not.toBeNull();
      // Up to ten transports of at most 32 characters each.
      const transports = created();
      transports.response.transports = Array.from({ length: 10 }, () => "t".repeat(32));
      expect(parseRegistrationJson(JSON.stringify(transports))).not.toBeNull();
    });

    it("refuses every other shape: not JSON, wrong types, missing fields, bad base64url, too long", () => {
      const notJson = ["", "{not json", "null", "[]", "42", '"public-key"', "true"];
      for (const text of notJson) {
        expect(parseRegistrationJson(text), text).toBeNull();
        expect(parseAuthenticationJson(text), text).toBeNull();
      }
      const both: Array<[string, (c: Record<string, any>) => void]> = [
        ["no id", (c) => delete c.id],
        ["empty id", (c) => (c.id = "")],
        ["id of 4097", (c) => (c.id = "A".repeat(4097))],
        ["id with + and /", (c) => (c.id = "ab+/cd")],
        ["id with a stray character inside", (c) => (c.id = "ab!cd")],
        ["id with padding", (c) => (c.id = "abcd==")],
        ["id a number", (c) => (c.id = 12)],
        ["rawId missing", (c) => delete c.rawId],
        ["rawId bad", (c) => (c.rawId = "a b")],
        ["type other", (c) => (c.type = "password")],
        ["type missing", (c) => delete c.type],
        ["no extension results", (c) => delete c.clientExtensionResults],
        ["extension results a string", (c) => (c.clientExtensionResults = "x")],
        ["attachment a number", (c) => (c.authenticatorAttachment = 1)],
        ["attachment of 33", (c) => (c.authenticatorAttachment = "p".repeat(33))],
        ["no response", (c) => delete c.response],
        ["response a string", (c) => (c.response = "x")],
        ["no clientDataJSON", (c) => delete c.response.clientDataJSON],
        ["clientDataJSON not base64url", (c) => (c.response.clientDataJSON = "{}")],
        ["clientDataJSON empty", (c) => (c.response.clientDataJSON = "")],
      ];
      for (const [what, edit] of both) {
        const reg = created();
        edit(reg);
        expect(parseRegistrationJson(JSON.stringify(reg)), `registration: ${what}`).toBeNull();
        const get = asserted();
        edit(get);
        expect(parseAuthenticationJson(JSON.stringify(get)), `assertion: ${what}`).toBeNull();
      }
      const registration: Array<[string, (c: Record<string, any>) => void]> = [
        ["no attestationObject", (c) => delete c.response.attestationObject],
        ["attestationObject bad", (c) => (c.response.attestationObject = "a.b")],
        ["transports a string", (c) => (c.response.transports = "usb")],
        ["eleven transports", (c) => (c.response.transports = Array.from({ length: 11 }, () => "usb"))],
        ["a transport of 33", (c) => (c.response.transports = ["t".repeat(33)])],
        ["a transport a number", (c) => (c.response.transports = [1])],
      ];
      for (const [what, edit] of registration) {
        const reg = created();
        edit(reg);
        expect(parseRegistrationJson(JSON.stringify(reg)), what).toBeNull();
      }
      const assertion: Array<[string, (c: Record<string, any>) => void]> = [
        ["no authenticatorData", (c) => delete c.response.authenticatorData],
        ["authenticatorData bad", (c) => (c.response.authenticatorData = "a=")],
        ["no signature", (c) => delete c.response.signature],
        ["signature empty", (c) => (c.response.signature = "")],
        ["userHandle empty", (c) => (c.response.userHandle = "")],
        ["userHandle a number", (c) => (c.response.userHandle = 5)],
      ];
      for (const [what, edit] of assertion) {
        const get = asserted();
        edit(get);
        expect(parseAuthenticationJson(JSON.stringify(get)), what).toBeNull();
      }
      // An assertion is not an attestation, nor the other way round.
      expect(parseRegistrationJson(JSON.stringify(asserted()))).toBeNull();
      expect(parseAuthenticationJson(JSON.stringify(created()))).toBeNull();
    });

    it("a malformed answer changes nothing: no challenge used, nothing counted, audited or stored", async () => {
      const { user, auth: holder } = await userWithPasskey();
      const session = await atOtp(user);
      const options = await ask(user, session);
      const before = await events(user);
      for (const text of ["", "{not json", JSON.stringify({ id: holder.credentialId }), "x".repeat(100_000)]) {
        expect(await confirmPasskey(unit.deps, user, session, text, RP, ctx())).toEqual({ kind: "malformed" });
      }
      expect(await failures(user)).toBe(0);
      expect(await events(user)).toEqual(before);
      // The challenge is still there to answer.
      const good = holder.get(options, { origin: RP.origin });
      expect(await confirmPasskey(unit.deps, user, session, JSON.stringify(good), RP, ctx())).toMatchObject({ kind: "signed-in" });

      const profile = await fullSession(user);
      const start = await startPasskeyRegistration(unit.deps, user, profile, { name: "Phone", password: null }, RP, ctx());
      expect(start.kind).toBe("options");
      for (const text of ["", "[]", "x".repeat(100_000)]) {
        expect(await finishPasskeyRegistration(unit.deps, user, profile, { name: "Phone", credential: text }, RP, ctx())).toEqual({ kind: "no-credential" });
      }
      expect(await rows(user)).toHaveLength(1);
      expect(await events(user)).not.toContain("passkey.add-failed");
    });
  });

  describe("registration", () => {
    it("asks for a fresh proof: a code confirmed in the last 15 minutes, else the password, right", async () => {
      const user = await addUser(unit.deps);
      const stale = await fullSession(user, now() - 15 * MINUTE);
      const start = (password: string | null, session = stale) => startPasskeyRegistration(unit.deps, user, session, { name: "Laptop", password }, RP, ctx());
      expect(await start(null)).toEqual({ kind: "password-needed" });
      expect(await start("not the password")).toEqual({ kind: "password-wrong" });
      expect(await start(user.password)).toMatchObject({ kind: "options" });
      expect(await start(null, await fullSession(user, now() - 15 * MINUTE + 1))).toMatchObject({ kind: "options" });
    });

    it("offers options bound to FAMOS's RP ID, the user's random id, user verification required, and the user's passkeys excluded with their transports", async () => {
      const { user, auth } = await userWithPasskey();
      const other = await userWithPasskey();
      const session = await fullSession(user);
      const start = await startPasskeyRegistration(unit.deps, user, session, { name: "Phone", password: null }, RP, ctx());
      if (start.kind !== "options") throw new Error(start.kind);
      expect(start.options).toMatchObject({
        rp: { name: "FAMOS", id: "famos.test" },
        user: { id: Buffer.from(user.id).toString("base64url"), name: user.login_id, displayName: user.full_name },
        timeout: CHALLENGE_TTL_MS,
        attestation: "none",
        authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
      });
      expect(start.options.excludeCredentials).toEqual([{ id: auth.credentialId, type: "public-key", transports: ["internal"] }]);
      expect(start.options.excludeCredentials?.map((c) => c.id)).not.toContain(other.auth.credentialId);
      // The challenge is stored (as its hash) for this session, for registration.
      expect(await challengeRow(start.options.challenge)).toMatchObject({ session_id: session.id, purpose: "register", used_at: null, expires_at: now() + CHALLENGE_TTL_MS });
    });

    it("stores the credential with its counter, transports and backup flags, audits it and counts it", async () => {
      const user = await addUser(unit.deps);
      const session = await fullSession(user);
      const added = await metric(unit.deps.metrics.passkeysAdded);
      const auth = new SoftAuthenticator({ backupEligible: true, backedUp: true });
      const { outcome, credential } = await register(user, session, auth, { counter: 7 }, "  My \t  phone ", (c) => (c.response.transports = ["usb", "nfc"]));
      const [row] = await rows(user);
      expect(outcome).toEqual({ kind: "added", passkey: { id: row!.id, name: "My phone", createdAt: now(), lastUsedAt: null, backedUp: true } });
      expect(row).toMatchObject({ credential_id: credential.id, sign_count: 7, transports: "usb,nfc", device_type: "multiDevice", backed_up: 1, name: "My phone", created_at: now(), last_used_at: null });
      expect(row!.public_key).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      expect(await metric(unit.deps.metrics.passkeysAdded)).toBe(added + 1);
      expect(await audits(user)).toContainEqual({ event: "passkey.added", detail: { name: "My phone", deviceType: "multiDevice", backedUp: true }, actor: user.login_id });

      // Without transports: none stored; a device-bound passkey: single device, not backed up.
      const plain = new SoftAuthenticator();
      const second = await register(user, session, plain, {}, "Key", (c) => delete c.response.transports);
      expect(second.outcome).toMatchObject({ kind: "added", passkey: { backedUp: false } });
      expect((await rows(user)).find((r) => r.name === "Key")).toMatchObject({ transports: null, device_type: "singleDevice", backed_up: 0, sign_count: 0 });
      expect((await audits(user)).at(-1)).toEqual({ event: "passkey.added", detail: { name: "Key", deviceType: "singleDevice", backedUp: false }, actor: user.login_id });

      // The stored key and counter are what sign-in checks against.
      const otp = await atOtp(user as TestUser);
      const options = await ask(user, otp);
      expect(options.allowCredentials).toEqual(
        expect.arrayContaining([
          { id: credential.id, type: "public-key", transports: ["usb", "nfc"] },
          { id: plain.credentialId, type: "public-key" },
        ]),
      );
      const low = auth.get(options, { origin: RP.origin, counter: 7 });
      expect(await confirmPasskey(unit.deps, user, otp, JSON.stringify(low), RP, ctx())).toEqual({ kind: "refused", reason: "counter-regressed" });
    });

    it("refuses a passkey added twice (the excluded credential), for this user or another", async () => {
      const { user, auth } = await userWithPasskey();
      const added = await metric(unit.deps.metrics.passkeysAdded);
      const again = await register(user, await fullSession(user), auth, {}, "Again");
      expect(again.options.excludeCredentials?.map((c) => c.id)).toEqual([auth.credentialId]);
      expect(again.outcome).toEqual({ kind: "refused", reason: "already-added" });
      const stranger = await addUser(unit.deps);
      expect((await register(stranger, await fullSession(stranger), auth, {}, "Stolen")).outcome).toEqual({ kind: "refused", reason: "already-added" });
      expect(await rows(user)).toHaveLength(1);
      expect(await rows(stranger)).toEqual([]);
      expect(await metric(unit.deps.metrics.passkeysAdded)).toBe(added);
      expect((await events(user)).filter((e) => e === "passkey.added")).toHaveLength(1);
    });

    it("refuses an attestation without user verification, for another origin or RP ID, and audits why", async () => {
      const user = await addUser(unit.deps);
      const session = await fullSession(user);
      const cases: Array<[Partial<Ceremony>, string]> = [
        [{ userVerified: false }, "not-verified"],
        [{ origin: "https://famos.test.evil.example" }, "invalid"],
        [{ rpId: "evil.example" }, "invalid"],
        [{ origin: `https://${"a".repeat(300)}.example` }, "invalid"],
      ];
      for (const [at, reason] of cases) {
        expect((await register(user, session, new SoftAuthenticator(), at)).outcome, JSON.stringify(at)).toEqual({ kind: "refused", reason });
      }
      expect(await rows(user)).toEqual([]);
      const failed = (await audits(user)).filter((a) => a.event === "passkey.add-failed");
      expect(failed.map((a) => a.detail?.result)).toEqual(["not-verified", "invalid", "invalid", "invalid"]);
      expect(String(failed[0]!.detail?.why)).toMatch(/user verification/i);
      // The error's message itself, not "Error: …".
      expect(failed[1]!.detail?.why).toBe(`Unexpected registration response origin "https://famos.test.evil.example", expected "${RP.origin}"`);
      // The library's words, cut at 200 characters (this one quotes a 320-character origin).
      expect(String(failed[3]!.detail?.why)).toHaveLength(200);
    });

    it("refuses, and audits, an attestation whose signature does not verify (a packed self-attestation signed by another key)", async () => {
      const user = await addUser(unit.deps);
      const forged = (c: RegistrationResponseJSON) => {
        const statement = isoCBOR.decodeFirst<Map<string, unknown>>(isoBase64URL.toBuffer(c.response.attestationObject));
        const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
        statement.set("fmt", "packed");
        statement.set("attStmt", new Map<string, unknown>([["alg", -7], ["sig", new Uint8Array(sign("sha256", Buffer.from("not the attested data"), other.privateKey))]]));
        c.response.attestationObject = isoBase64URL.fromBuffer(isoCBOR.encode(statement as Parameters<typeof isoCBOR.encode>[0]));
      };
      const added = await metric(unit.deps.metrics.passkeysAdded);
      const { outcome } = await register(user, await fullSession(user), new SoftAuthenticator(), {}, "Forged", forged);
      expect(outcome).toEqual({ kind: "refused", reason: "invalid" });
      expect(await rows(user)).toEqual([]);
      expect(await metric(unit.deps.metrics.passkeysAdded)).toBe(added);
      expect((await audits(user)).at(-1)).toEqual({ event: "passkey.add-failed", detail: { result: "invalid", why: "the attestation statement did not verify" }, actor: user.login_id });
    });

    it("takes only this session's unexpired registration challenge, once", async () => {
      const user = await addUser(unit.deps);
      const session = await fullSession(user);
      const finish = (credential: RegistrationResponseJSON, on = session) =>
        finishPasskeyRegistration(unit.deps, user, on, { name: "Laptop", credential: JSON.stringify(credential) }, RP, ctx());
      const begin = async (on = session) => {
        const start = await startPasskeyRegistration(unit.deps, user, on, { name: "Laptop", password: null }, RP, ctx());
        if (start.kind !== "options") throw new Error(start.kind);
        return start.options;
      };
      const auth = new SoftAuthenticator();
      // Another session's challenge.
      const elsewhere = await fullSession(user);
      expect(await finish(auth.create(await begin(elsewhere), { origin: RP.origin }))).toEqual({ kind: "refused", reason: "invalid" });
      // A sign-in challenge of this very session.
      const options = await begin();
      const signin = await issueChallenge(unit.deps, session.id, "signin", now());
      expect(await finish(auth.create(options, { origin: RP.origin, challenge: signin }))).toEqual({ kind: "refused", reason: "invalid" });
      // Answered once (wrongly), never again (rightly).
      const once = await begin();
      expect(await finish(auth.create(once, { origin: RP.origin, userVerified: false }))).toEqual({ kind: "refused", reason: "not-verified" });
      expect(await finish(auth.create(once, { origin: RP.origin }))).toEqual({ kind: "refused", reason: "invalid" });
      // Expired.
      const late = await begin();
      unit.clock.advance(CHALLENGE_TTL_MS);
      expect(await finish(auth.create(late, { origin: RP.origin }))).toEqual({ kind: "refused", reason: "invalid" });
      expect(await rows(user)).toEqual([]);
      // The one the session holds now, in time: added.
      expect(await finish(auth.create(await begin(await fullSession(user)), { origin: RP.origin }))).toEqual({ kind: "refused", reason: "invalid" });
      const fresh = await fullSession(user);
      expect(await finish(auth.create(await begin(fresh), { origin: RP.origin }), fresh)).toMatchObject({ kind: "added" });
    });

    it("names a passkey: spaces trimmed and collapsed, one to 64 characters (counted as characters), at start and at finish", async () => {
      const user = await addUser(unit.deps);
      const session = await fullSession(user);
      const start = (name: string) => startPasskeyRegistration(unit.deps, user, session, { name, password: null }, RP, ctx());
      expect(await start("")).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameMissing });
      expect(await start(" \t\n ")).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameMissing });
      expect(await start("x".repeat(MAX_PASSKEY_NAME + 1))).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameTooLong });
      expect(await start(` ${"x".repeat(MAX_PASSKEY_NAME)}  `)).toMatchObject({ kind: "options" });
      // A stale session with a bad name hears about the name, not the password.
      const stale = await fullSession(user, null);
      expect(await startPasskeyRegistration(unit.deps, user, stale, { name: "", password: null }, RP, ctx())).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameMissing });

      // Emoji count as one character each (64 of them are 128 UTF-16 units).
      const emoji = "🔑".repeat(MAX_PASSKEY_NAME);
      expect((await register(user, session, new SoftAuthenticator(), {}, emoji)).outcome).toMatchObject({ kind: "added", passkey: { name: emoji } });
      const spaced = await register(user, session, new SoftAuthenticator(), {}, "\t Work \t\t laptop  \n");
      expect(spaced.outcome).toMatchObject({ kind: "added", passkey: { name: "Work laptop" } });

      // The finish checks the name again (the form sends it twice), before anything else.
      const options = await start("Phone");
      if (options.kind !== "options") throw new Error(options.kind);
      const credential = JSON.stringify(new SoftAuthenticator().create(options.options, { origin: RP.origin }));
      const finish = (name: string) => finishPasskeyRegistration(unit.deps, user, session, { name, credential }, RP, ctx());
      expect(await finish("   ")).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameMissing });
      expect(await finish("y".repeat(MAX_PASSKEY_NAME + 1))).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameTooLong });
      expect(await finish("Phone")).toMatchObject({ kind: "added" });
      expect((await rows(user)).map((r) => r.name).sort()).toEqual(["Phone", "Work laptop", emoji]);
    });

    it("refuses a name with control or invisible characters, at start and at finish (users/fields.ts's rule)", async () => {
      const user = await addUser(unit.deps);
      const session = await fullSession(user);
      const start = (name: string) => startPasskeyRegistration(unit.deps, user, session, { name, password: null }, RP, ctx());
      // U+202E reverses what follows on Profile and in the mail; U+200B hides; U+0007, U+0085, U+009B are C0/C1;
      // U+206A, U+FFF9, a tag (U+E0041) and a variation selector (U+FE0F) show nothing (any format character, Cf).
      for (const name of ["Phone\u202Eenohp", "Pho\u200Bne", "Phone\u0007", "Phone\u0085", "Phone\u009B", "\u2066Phone\u2069", "Pho\u00adne", "Pho\u206Ane", "Phone\uFFF9", "Phone\u{E0041}", "Phone\uFE0F"]) {
        expect(await start(name), JSON.stringify(name)).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameHidden });
      }
      const options = await start("Phone");
      if (options.kind !== "options") throw new Error(options.kind);
      const credential = JSON.stringify(new SoftAuthenticator().create(options.options, { origin: RP.origin }));
      const finish = (name: string) => finishPasskeyRegistration(unit.deps, user, session, { name, credential }, RP, ctx());
      expect(await finish("Phone\u202E")).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameHidden });
      expect(await finish("Phone\u0007")).toEqual({ kind: "invalid", message: PASSKEY_TEXT.nameHidden });
      expect(await rows(user)).toEqual([]);
      // Tabs and line breaks are spaces, collapsed as before; an emoji or an accent is a name.
      expect(await finish("\tMy  phone é 🔑\n")).toMatchObject({ kind: "added", passkey: { name: "My phone é 🔑" } });
    });

    it(`keeps at most ${MAX_PASSKEYS} passkeys per user`, async () => {
      const user = await addUser(unit.deps);
      const session = await fullSession(user);
      for (let i = 0; i < MAX_PASSKEYS - 1; i += 1) expect((await register(user, session, new SoftAuthenticator(), {}, `Key ${i}`)).outcome.kind).toBe("added");
      const tenth = await register(user, session, new SoftAuthenticator(), {}, "Tenth");
      expect(tenth.outcome.kind).toBe("added");
      expect(tenth.options.excludeCredentials).toHaveLength(MAX_PASSKEYS - 1);
      expect(await startPasskeyRegistration(unit.deps, user, session, { name: "Eleventh", password: null }, RP, ctx())).toEqual({
        kind: "invalid",
        message: PASSKEY_TEXT.tooMany(MAX_PASSKEYS),
      });
    });
  });

  describe("sign-in", () => {
    it("finishes the sign-in exactly as a code does: the session advances, the flow ends, its code is void, the passkey's use is stored, audited and counted", async () => {
      const { user, auth } = await userWithPasskey();
      const session = await atOtp(user);
      // One failure first: a success clears the count.
      expect((await answer(user, session, auth, { userVerified: false })).outcome).toEqual({ kind: "refused", reason: "not-verified" });
      expect(await failures(user)).toBe(1);
      const confirmed = await metric(unit.deps.metrics.passkeyAssertions, "confirmed");
      const ok = await metric(unit.deps.metrics.signIns, "passkey-ok");
      unit.clock.advance(MINUTE);
      const { outcome } = await answer(user, session, auth, { counter: 41 });
      expect(outcome).toMatchObject({ kind: "signed-in", returnTo: null, flowKind: "signin", session: { id: session.id, stage: "full", flow_id: null, verified_at: now() } });
      expect((await findFlow(db(), session.flow_id!))!.finished_at).toBe(now());
      expect(await db().selectFrom("codes").select("void_reason").where("flow_id", "=", session.flow_id!).execute()).toEqual([{ void_reason: "passkey" }]);
      expect((await rows(user))[0]).toMatchObject({ sign_count: 41, last_used_at: now(), backed_up: 0 });
      expect(await failures(user)).toBe(0);
      expect((await audits(user)).at(-1)).toEqual({ event: "passkey.confirmed", detail: { name: "Work laptop", backedUp: false }, actor: user.login_id });
      expect(await metric(unit.deps.metrics.passkeyAssertions, "confirmed")).toBe(confirmed + 1);
      expect(await metric(unit.deps.metrics.signIns, "passkey-ok")).toBe(ok + 1);
      // The finished flow takes no second passkey.
      expect(await passkeySignInOptions(unit.deps, user, session, RP)).toBeNull();
      expect((await answer(user, await atOtp(user), auth)).outcome).toMatchObject({ kind: "signed-in" });
      expect(await confirmPasskey(unit.deps, user, session, JSON.stringify(auth.get({ challenge: "c3RhbGU", rpId: RP.rpId } as PublicKeyCredentialRequestOptionsJSON, { origin: RP.origin })), RP, ctx())).toEqual({ kind: "void" });
    });

    it("offers the user's own passkeys with their transports, user verification required, over a sign-in challenge of this session", async () => {
      const { user, auth } = await userWithPasskey();
      const second = new SoftAuthenticator();
      await register(user, await fullSession(user), second, {}, "USB key", (c) => (c.response.transports = ["usb", "ble"]));
      const other = await userWithPasskey();
      const session = await atOtp(user);
      const options = await ask(user, session);
      expect(options).toMatchObject({ rpId: "famos.test", timeout: CHALLENGE_TTL_MS, userVerification: "required" });
      expect(options.allowCredentials).toHaveLength(2);
      expect(options.allowCredentials).toEqual(
        expect.arrayContaining([
          { id: auth.credentialId, type: "public-key", transports: ["internal"] },
          { id: second.credentialId, type: "public-key", transports: ["usb", "ble"] },
        ]),
      );
      expect(options.allowCredentials?.map((c) => c.id)).not.toContain(other.auth.credentialId);
      expect(await challengeRow(options.challenge)).toMatchObject({ session_id: session.id, purpose: "signin", used_at: null });
    });

    it("offers and accepts a passkey only for an unfinished sign-in flow: not an enrolment's, not a finished one, not without a flow or a passkey", async () => {
      const { user, auth } = await userWithPasskey();
      const open = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
      const enrol = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "enrol", email: "new.box@dealer.example", now: now() });
      const done = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
      await finishFlow(db(), done.id, now());
      expect(passkeyOffered(undefined)).toBe(false);
      expect(passkeyOffered(open)).toBe(true);
      expect(passkeyOffered(enrol)).toBe(false);
      expect(passkeyOffered((await findFlow(db(), done.id))!)).toBe(false);

      const sessionOn = async (flowId: string | null) =>
        (await createSession(db(), unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "otp", flowId, ip: "192.0.2.9", userAgent: "ceremony-test" })).session;
      const stale = { challenge: "c3RhbGU", rpId: RP.rpId } as PublicKeyCredentialRequestOptionsJSON;
      for (const flowId of [enrol.id, done.id, null, "no-such-flow"]) {
        const session = await sessionOn(flowId);
        expect(await passkeySignInOptions(unit.deps, user, session, RP), String(flowId)).toBeNull();
        expect(await confirmPasskey(unit.deps, user, session, JSON.stringify(auth.get(stale, { origin: RP.origin })), RP, ctx()), String(flowId)).toEqual({ kind: "void" });
      }
      expect((await findFlow(db(), enrol.id))!.finished_at).toBeNull();
      expect(await failures(user)).toBe(0);
      expect(await events(user)).not.toContain("passkey.failed");
      // A user without passkeys is offered none.
      const plain = await addUser(unit.deps);
      expect(await passkeySignInOptions(unit.deps, plain, await atOtp(plain), RP)).toBeNull();
      expect(await passkeySignInOptions(unit.deps, user, await sessionOn(open.id), RP)).not.toBeNull();
    });

    it("refuses each broken rule with its reason, audits it with the right event, and counts it toward the code lock", async () => {
      const { user, auth } = await userWithPasskey({}, { counter: 10 });
      const other = await userWithPasskey();
      const impostor = Object.assign(new SoftAuthenticator(), { credentialId: auth.credentialId });
      const cases: Array<[string, SoftAuthenticator, Partial<Ceremony>, string, string, ((a: AuthenticationResponseJSON) => void)?]> = [
        ["an unknown passkey", new SoftAuthenticator(), {}, "unknown-passkey", "passkey.failed"],
        ["another user's passkey", other.auth, {}, "unknown-passkey", "passkey.failed"],
        ["no user verification", auth, { counter: 20, userVerified: false }, "not-verified", "passkey.failed"],
        ["another origin", auth, { counter: 21, origin: "https://evil.example" }, "invalid", "passkey.failed"],
        ["another RP ID", auth, { counter: 22, rpId: "evil.example" }, "invalid", "passkey.failed"],
        ["another key's signature", impostor, { counter: 23 }, "invalid", "passkey.failed"],
        ["garbage authenticator data", auth, {}, "invalid", "passkey.failed", (a) => (a.response.authenticatorData = "AAAA")],
        ["a counter that went back", auth, { counter: 9 }, "counter-regressed", "passkey.counter-regressed"],
      ];
      const session = await atOtp(user);
      const failed = await metric(unit.deps.metrics.passkeyAssertions, "failed");
      let counted = 0;
      for (const [what, by, at, reason, event, edit] of cases) {
        // Short of the lock, which would answer before the rule: the count starts again.
        if (counted === unit.deps.config.lock.after - 1) await clearFailures(user);
        const signIns = await metric(unit.deps.metrics.signIns, `passkey-${reason}`);
        const { outcome, assertion } = await answer(user, session, by, at, edit);
        expect(outcome, what).toEqual({ kind: "refused", reason });
        expect((await audits(user)).at(-1), what).toEqual({ event, detail: { result: reason, credential: assertion.id }, actor: user.login_id });
        counted = counted === unit.deps.config.lock.after - 1 ? 1 : counted + 1;
        expect(await failures(user), what).toBe(counted);
        expect(await metric(unit.deps.metrics.signIns, `passkey-${reason}`), what).toBe(signIns + 1);
      }
      expect(await metric(unit.deps.metrics.passkeyAssertions, "failed")).toBe(failed + cases.length);
      expect((await rows(user))[0]).toMatchObject({ sign_count: 10, last_used_at: null });
      expect((await findFlow(db(), session.flow_id!))!.finished_at).toBeNull();
      expect(await events(user)).not.toContain("passkey.confirmed");
    });

    it("every kind of failure counts toward one lock, which then refuses even the right passkey", async () => {
      const { user, auth } = await userWithPasskey({}, { counter: 10 });
      const session = await atOtp(user);
      const wrong: Array<[SoftAuthenticator, Partial<Ceremony>]> = [
        [new SoftAuthenticator(), {}],
        [auth, { counter: 11, userVerified: false }],
        [auth, { counter: 12, origin: "https://evil.example" }],
        [auth, { counter: 5 }],
        [auth, { counter: 13, rpId: "evil.example" }],
      ];
      expect(wrong).toHaveLength(unit.deps.config.lock.after);
      for (const [by, at] of wrong) expect((await answer(user, session, by, at)).outcome.kind).toBe("refused");
      const locked = await metric(unit.deps.metrics.signIns, "passkey-locked");
      expect((await answer(user, session, auth, { counter: 50 })).outcome).toMatchObject({ kind: "locked", scope: "login-id" });
      expect(await metric(unit.deps.metrics.signIns, "passkey-locked")).toBe(locked + 1);
      expect(await events(user)).toContain("lock.started");
      expect((await rows(user))[0]!.sign_count).toBe(10);
    });

    it("audits at most 64 characters of an unknown credential ID", async () => {
      const { user } = await userWithPasskey();
      const stranger = Object.assign(new SoftAuthenticator(), { credentialId: "C".repeat(100) });
      const { outcome } = await answer(user, await atOtp(user), stranger);
      expect(outcome).toEqual({ kind: "refused", reason: "unknown-passkey" });
      expect((await audits(user)).at(-1)?.detail).toEqual({ result: "unknown-passkey", credential: "C".repeat(64) });
    });

    it("a counter that stayed the same, or fell to zero, is a clone's sign; one that stays at zero (a synced passkey) is not", async () => {
      const { user, auth } = await userWithPasskey({}, { counter: 5 });
      const session = await atOtp(user);
      expect((await answer(user, session, auth, { counter: 5 })).outcome).toEqual({ kind: "refused", reason: "counter-regressed" });
      expect((await answer(user, session, auth, { counter: 0 })).outcome).toEqual({ kind: "refused", reason: "counter-regressed" });
      // No user verification says so first; a counter that moved on, with another origin, is plainly invalid.
      expect((await answer(user, session, auth, { counter: 4, userVerified: false })).outcome).toEqual({ kind: "refused", reason: "not-verified" });
      expect((await answer(user, session, auth, { counter: 6, origin: "https://evil.example" })).outcome).toEqual({ kind: "refused", reason: "invalid" });
      expect((await answer(user, session, auth, { counter: 6 })).outcome).toMatchObject({ kind: "signed-in" });
      expect((await rows(user))[0]!.sign_count).toBe(6);

      const synced = await userWithPasskey({ backupEligible: true, backedUp: true });
      for (let i = 0; i < 2; i += 1) {
        expect((await answer(synced.user, await atOtp(synced.user), synced.auth, { counter: 0 })).outcome, `use ${i}`).toMatchObject({ kind: "signed-in" });
      }
      const zero = await atOtp(synced.user);
      expect((await answer(synced.user, zero, synced.auth, { counter: 0, origin: "https://evil.example" })).outcome).toEqual({ kind: "refused", reason: "invalid" });
      expect((await answer(synced.user, zero, synced.auth, { counter: 0, rpId: "evil.example" })).outcome).toEqual({ kind: "refused", reason: "invalid" });
    });

    it("backup eligibility must stay what it was; the backup state may change, and is stored", async () => {
      const { user, auth } = await userWithPasskey({ backupEligible: true, backedUp: false });
      expect((await rows(user))[0]).toMatchObject({ device_type: "multiDevice", backed_up: 0 });
      (auth.flags as { backedUp?: boolean }).backedUp = true;
      expect((await answer(user, await atOtp(user), auth)).outcome).toMatchObject({ kind: "signed-in" });
      expect((await rows(user))[0]).toMatchObject({ backed_up: 1 });
      expect((await audits(user)).at(-1)).toMatchObject({ event: "passkey.confirmed", detail: { name: "Work laptop", backedUp: true } });

      // The authenticator now says it is device-bound (BE off): not the passkey that was registered.
      (auth.flags as { backupEligible?: boolean; backedUp?: boolean }).backupEligible = false;
      (auth.flags as { backedUp?: boolean }).backedUp = false;
      expect((await answer(user, await atOtp(user), auth)).outcome).toEqual({ kind: "refused", reason: "backup-eligibility-changed" });
      expect(await events(user)).toContain("passkey.failed");
      expect((await audits(user)).at(-1)?.detail).toMatchObject({ result: "backup-eligibility-changed" });
      expect((await rows(user))[0]).toMatchObject({ backed_up: 1, device_type: "multiDevice" });
    });

    it("uses a challenge once, in the session that asked, for sign-in only — even a stranger's answer or an unreadable one uses it up", async () => {
      const { user, auth } = await userWithPasskey();
      const session = await atOtp(user);
      const options = await ask(user, session);
      const confirm = (a: AuthenticationResponseJSON, on = session) => confirmPasskey(unit.deps, user, on, JSON.stringify(a), RP, ctx());
      // A stranger's credential answers first: the challenge is gone for the right one.
      expect(await confirm(new SoftAuthenticator().get(options, { origin: RP.origin }))).toEqual({ kind: "refused", reason: "unknown-passkey" });
      expect((await challengeRow(options.challenge))?.used_at).toBe(now());
      expect(await confirm(auth.get(options, { origin: RP.origin }))).toEqual({ kind: "refused", reason: "invalid" });
      // An unknown credential whose client data cannot be read: refused, and the challenge stays.
      const next = await ask(user, session);
      const unreadable = { id: "dW5rbm93bg", rawId: "dW5rbm93bg", type: "public-key", clientExtensionResults: {}, response: { clientDataJSON: "AAAA", authenticatorData: "AAAA", signature: "AAAA" } };
      expect(await confirmPasskey(unit.deps, user, session, JSON.stringify(unreadable), RP, ctx())).toEqual({ kind: "refused", reason: "unknown-passkey" });
      expect((await challengeRow(next.challenge))?.used_at).toBeNull();
      // Another session's challenge, and a registration challenge of this one (the count so far cleared:
      // five failures would lock the login ID, and the lock would answer before the challenge rule).
      await clearFailures(user);
      const theirs = await atOtp(user);
      const issued = await ask(user, theirs);
      expect(await confirm(auth.get(issued, { origin: RP.origin }))).toEqual({ kind: "refused", reason: "invalid" });
      const register = await issueChallenge(unit.deps, session.id, "register", now());
      expect(await confirm(auth.get(next, { origin: RP.origin, challenge: register }))).toEqual({ kind: "refused", reason: "invalid" });
      // The other session's own challenge still works there.
      expect(await confirm(auth.get(issued, { origin: RP.origin }), theirs)).toMatchObject({ kind: "signed-in" });
      // Expired.
      const late = await ask(user, session);
      unit.clock.advance(CHALLENGE_TTL_MS);
      expect(await confirm(auth.get(late, { origin: RP.origin }))).toEqual({ kind: "refused", reason: "invalid" });
    });

    it("a passkey whose counter another request moved first answers \"used\": no sign-in, no confirmed audit, the flow and its code untouched", async () => {
      const { user, auth } = await userWithPasskey();
      const session = await atOtp(user);
      expect((await answer(user, session, auth, { userVerified: false })).outcome.kind).toBe("refused");
      const [row] = await rows(user);
      await sql`create temp trigger other_request after update of used_at on passkey_challenges begin update passkeys set sign_count = sign_count + 1000 where id = ${sql.lit(row!.id)}; end`.execute(db());
      try {
        expect((await answer(user, session, auth)).outcome).toEqual({ kind: "used" });
      } finally {
        await sql`drop trigger other_request`.execute(db());
      }
      expect(await events(user)).not.toContain("passkey.confirmed");
      expect((await findFlow(db(), session.flow_id!))!.finished_at).toBeNull();
      expect(await db().selectFrom("codes").select("void_reason").where("flow_id", "=", session.flow_id!).execute()).toEqual([{ void_reason: null }]);
      expect(await db().selectFrom("sessions").select(["stage", "flow_id"]).where("id", "=", session.id).executeTakeFirst()).toEqual({ stage: "otp", flow_id: session.flow_id });
      expect((await rows(user))[0]).toMatchObject({ sign_count: 1000, last_used_at: null });
      expect(await failures(user)).toBe(1);
    });
  });

  describe("removal", () => {
    it("needs a fresh proof: a recent code, else the password, right", async () => {
      const { user, auth } = await userWithPasskey();
      const [passkey] = await rows(user);
      const stale = await fullSession(user, now() - 15 * MINUTE);
      const remove = (password: string | null, session = stale) => removeOwnPasskey(unit.deps, user, session, { id: passkey!.id, password }, ctx());
      expect(await remove(null)).toEqual({ kind: "password-needed" });
      expect(await remove("not the password")).toEqual({ kind: "password-wrong" });
      expect(await rows(user)).toHaveLength(1);
      expect(await events(user)).not.toContain("passkey.removed");
      expect(await remove(user.password)).toEqual({ kind: "removed", name: "Work laptop" });
      expect(await rows(user)).toEqual([]);
      expect((await audits(user)).at(-1)).toEqual({ event: "passkey.removed", detail: { name: "Work laptop" }, actor: user.login_id });
      // It no longer signs in, nor is it offered.
      const otp = await atOtp(user);
      expect(await passkeySignInOptions(unit.deps, user, otp, RP)).toBeNull();
      const stray = auth.get({ challenge: "c3RhbGU", rpId: RP.rpId } as PublicKeyCredentialRequestOptionsJSON, { origin: RP.origin });
      expect(await confirmPasskey(unit.deps, user, otp, JSON.stringify(stray), RP, ctx())).toEqual({ kind: "refused", reason: "unknown-passkey" });
      // A recent code is proof enough; a removed one is not found again.
      const second = await userWithPasskey();
      const [theirs] = await rows(second.user);
      const fresh = await fullSession(second.user);
      expect(await removeOwnPasskey(unit.deps, second.user, fresh, { id: theirs!.id, password: null }, ctx())).toEqual({ kind: "removed", name: "Work laptop" });
      expect(await removeOwnPasskey(unit.deps, second.user, fresh, { id: theirs!.id, password: null }, ctx())).toEqual({ kind: "not-found" });
    });

    it("removes only the owner's passkey", async () => {
      const owner = await userWithPasskey();
      const [theirs] = await rows(owner.user);
      const thief = await userWithPasskey();
      const session = await fullSession(thief.user);
      expect(await removeOwnPasskey(unit.deps, thief.user, session, { id: theirs!.id, password: null }, ctx())).toEqual({ kind: "not-found" });
      expect(await rows(owner.user)).toHaveLength(1);
      expect(await rows(thief.user)).toHaveLength(1);
      expect(await events(thief.user)).not.toContain("passkey.removed");
      expect(await events(owner.user)).not.toContain("passkey.removed");
    });
  });

  describe("the passkey store", () => {
    it("lists a user's passkeys oldest first, as summaries without keys", async () => {
      const user = await addUser(unit.deps);
      const session = await fullSession(user);
      await register(user, session, new SoftAuthenticator(), {}, "First");
      unit.clock.advance(MINUTE);
      await register(user, session, new SoftAuthenticator({ backupEligible: true, backedUp: true }), {}, "Second");
      await db().updateTable("passkeys").set({ last_used_at: now() + 5 }).where("name", "=", "Second").where("user_id", "=", user.id).execute();
      const [first, second] = await rows(user);
      expect(await listPasskeys(db(), user.id)).toEqual([
        { id: first!.id, name: "First", createdAt: now() - MINUTE, lastUsedAt: null, backedUp: false },
        { id: second!.id, name: "Second", createdAt: now(), lastUsedAt: now() + 5, backedUp: true },
      ]);
      expect(passkeySummary({ id: "x", name: "n", created_at: 1, last_used_at: 0, backed_up: 2 })).toEqual({ id: "x", name: "n", createdAt: 1, lastUsedAt: 0, backedUp: false });
      expect(await hasPasskeys(db(), user.id)).toBe(true);
      expect(await hasPasskeys(db(), (await addUser(unit.deps)).id)).toBe(false);
    });

    it("removes one passkey of its owner, or all of them, and no one else's", async () => {
      const a = await userWithPasskey();
      await register(a.user, await fullSession(a.user), new SoftAuthenticator(), {}, "Spare");
      const b = await userWithPasskey();
      const mine = (await rows(a.user)).find((r) => r.name === "Work laptop");
      expect(await removePasskey(db(), b.user.id, mine!.id)).toBeNull();
      expect(await removePasskey(db(), a.user.id, mine!.id)).toBe("Work laptop");
      expect(await removePasskey(db(), a.user.id, mine!.id)).toBeNull();
      await register(a.user, await fullSession(a.user), new SoftAuthenticator(), {}, "Third");
      expect(await removeAllPasskeys(db(), a.user.id)).toBe(2);
      expect(await rows(a.user)).toEqual([]);
      expect(await rows(b.user)).toHaveLength(1);
      expect(await removeAllPasskeys(db(), a.user.id)).toBe(0);
    });
  });
});
