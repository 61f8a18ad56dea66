import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importUsersCsv } from "../../src/cli/import-file.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { bcryptHash, djangoPbkdf2, HEADER } from "./import-fixtures.ts";

const OPERATOR = { actor: "operator:test", ip: "cli", userAgent: "famos-cli" };
const NOTICE = "Your retail IT team set a new FAMOS password for you";

/**
 * Found in operation: the retail IT team runs the same dealer file with `--sync --update` every night.
 * After a user signed in (the bcrypt hash upgraded to argon2id) or changed the password on Profile, the
 * next run took the file's unchanged old hash for a new password: it put the old hash back, ended the
 * user's sessions and mailed "Your retail IT team set a new FAMOS password for you", every night. The
 * file's hash is a new password only when it differs from the hash the last import gave the account
 * (users.imported_hash_digest, migration 029), never because sign-in or the person changed the stored one.
 */
describe.each(["sqlite", "postgres"] as const)("re-importing the same file after a sign-in on %s", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  const csv = (loginId: string, email: string, hash: string) => `${HEADER}\n${loginId},Jane Smith,01234,,${email},${hash}\n`;
  const update = (text: string) => importUsersCsv(t.deps, text, { update: true, keepExisting: true, actor: OPERATOR });
  const notices = async (email: string) => ({
    passwordNotices: (await t.deps.db.selectFrom("outbox").select("kind").where("recipient", "=", email).where("kind", "=", "notice.password-changed").execute()).length,
    importNotices: t.smtp.messages.filter((m) => m.envelopeTo.includes(email) && m.subject === NOTICE).length,
  });

  it("after the hash was upgraded at sign-in: unchanged, the argon2id hash kept, the session live, nothing mailed", async () => {
    const password = "my old portal password";
    const file = csv("re.signin", "re.signin@dealer.example", bcryptHash(password, "2y"));
    expect(await importUsersCsv(t.deps, file, { update: false, actor: OPERATOR })).toMatchObject({ ok: true, added: 1 });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, { login_id: "re.signin", password, otp_email: "re.signin@dealer.example" });
    const upgraded = (await findUserByLogin(t.deps.db, "re.signin"))!.password_hash;
    expect(upgraded).toMatch(/^\$argon2id\$/);

    expect(await update(file)).toMatchObject({ ok: true, added: 0, updated: 0, unchanged: 1, refused: [] });
    expect((await findUserByLogin(t.deps.db, "re.signin"))!.password_hash).toBe(upgraded);
    expect((await client.get("/profile")).statusCode).toBe(200);
    // Every mail goes through the outbox: none queued is none sent, whatever the relay has by now.
    expect(await update(file)).toMatchObject({ ok: true, updated: 0, unchanged: 1 });
    expect(await notices("re.signin@dealer.example")).toEqual({ passwordNotices: 0, importNotices: 0 });
    expect((await submitPassword(new FormClient(t.app), "re.signin", password)).headers.location).toBe("/otp");
  });

  it("after the person changed the password on Profile: the new one still signs in, the old one not, nothing mailed", async () => {
    const old = "django era password";
    const file = csv("re.profile", "re.profile@dealer.example", djangoPbkdf2(old, "reSalt", 2000));
    expect(await importUsersCsv(t.deps, file, { update: false, actor: OPERATOR })).toMatchObject({ ok: true, added: 1 });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, { login_id: "re.profile", password: old, otp_email: "re.profile@dealer.example" });
    await client.get("/profile");
    const chosen = "purple elephant drives slowly";
    expect((await client.post("/profile/password", { currentPassword: old, newPassword: chosen, confirmNewPassword: chosen })).statusCode).toBe(303);
    // Profile's own notice ("Your FAMOS password was changed") is the one queued: the import adds none.
    await t.smtp.waitForMessage((m) => m.envelopeTo.includes("re.profile@dealer.example") && m.subject === "Your FAMOS password was changed");

    expect(await update(file)).toMatchObject({ ok: true, updated: 0, unchanged: 1, refused: [] });
    expect((await client.get("/profile")).statusCode).toBe(200);
    expect(await update(file)).toMatchObject({ ok: true, updated: 0, unchanged: 1 });
    expect(await notices("re.profile@dealer.example")).toEqual({ passwordNotices: 1, importNotices: 0 });
    expect((await submitPassword(new FormClient(t.app), "re.profile", chosen)).headers.location).toBe("/otp");
    expect((await submitPassword(new FormClient(t.app), "re.profile", old)).statusCode).toBe(401);
  });

  it("a different hash in the file is a new password, as before: sessions end, the notice is mailed", async () => {
    const first = "first imported password";
    const second = "second imported password";
    expect(await importUsersCsv(t.deps, csv("re.new", "re.new@dealer.example", bcryptHash(first)), { update: false, actor: OPERATOR })).toMatchObject({ added: 1 });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, { login_id: "re.new", password: first, otp_email: "re.new@dealer.example" });
    const next = bcryptHash(second);

    expect(await update(csv("re.new", "re.new@dealer.example", next))).toMatchObject({ ok: true, updated: 1, unchanged: 0 });
    expect((await findUserByLogin(t.deps.db, "re.new"))!.password_hash).toBe(next);
    expect((await client.get("/profile")).statusCode).toBe(303);
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("re.new@dealer.example") && m.subject === NOTICE);
    expect(mail.text).toContain("re.new");
    expect((await submitPassword(new FormClient(t.app), "re.new", second)).headers.location).toBe("/otp");
    expect((await submitPassword(new FormClient(t.app), "re.new", first)).statusCode).toBe(401);
    // That hash, upgraded at the next sign-in, is then the file's unchanged one.
    await signInFully(new FormClient(t.app), t.smtp, { login_id: "re.new", password: second, otp_email: "re.new@dealer.example" });
    expect(await update(csv("re.new", "re.new@dealer.example", next))).toMatchObject({ ok: true, updated: 0, unchanged: 1 });
    expect((await notices("re.new@dealer.example")).passwordNotices).toBe(1);
  });

  /**
   * The rule for accounts imported before migration 029 (marked "unrecorded"): the file's hash is applied
   * only when the stored hash is still a bcrypt or PBKDF2 one that differs from it, since only an import
   * stores those; an argon2id hash (sign-in's upgrade, Profile, support) is kept and the file's recorded.
   */
  describe("accounts imported before the record (migration 029)", () => {
    const unrecorded = (loginId: string) => t.deps.db.updateTable("users").set({ imported_hash_digest: "unrecorded" }).where("login_key", "=", loginId).execute();

    it("signed in since (argon2id stored): the file's old hash is recorded, not applied; a later different one is applied", async () => {
      const password = "password before the upgrade";
      const file = csv("pre.signin", "pre.signin@dealer.example", bcryptHash(password));
      await importUsersCsv(t.deps, file, { update: false, actor: OPERATOR });
      const client = new FormClient(t.app);
      await signInFully(client, t.smtp, { login_id: "pre.signin", password, otp_email: "pre.signin@dealer.example" });
      await unrecorded("pre.signin");
      const upgraded = (await findUserByLogin(t.deps.db, "pre.signin"))!.password_hash;

      // Recorded, not applied, and counted so the import says so (the first night only).
      expect(await update(file)).toMatchObject({ ok: true, updated: 0, unchanged: 1, recordedNotApplied: 1 });
      expect((await findUserByLogin(t.deps.db, "pre.signin"))!.password_hash).toBe(upgraded);
      expect((await client.get("/profile")).statusCode).toBe(200);
      expect(await update(file)).toMatchObject({ ok: true, updated: 0, unchanged: 1, recordedNotApplied: 0 });
      expect(await notices("pre.signin@dealer.example")).toEqual({ passwordNotices: 0, importNotices: 0 });

      const next = bcryptHash("a password IT chose later");
      expect(await update(csv("pre.signin", "pre.signin@dealer.example", next))).toMatchObject({ ok: true, updated: 1, recordedNotApplied: 0 });
      expect((await findUserByLogin(t.deps.db, "pre.signin"))!.password_hash).toBe(next);
    });

    it("never signed in (the imported bcrypt stored): the same hash is unchanged, a different one applied as before", async () => {
      const hash = bcryptHash("never used password");
      await importUsersCsv(t.deps, csv("pre.idle", "pre.idle@dealer.example", hash), { update: false, actor: OPERATOR });
      await unrecorded("pre.idle");
      expect(await update(csv("pre.idle", "pre.idle@dealer.example", hash))).toMatchObject({ ok: true, updated: 0, unchanged: 1, recordedNotApplied: 0 });
      await unrecorded("pre.idle");
      const next = bcryptHash("another never used password");
      expect(await update(csv("pre.idle", "pre.idle@dealer.example", next))).toMatchObject({ ok: true, updated: 1, recordedNotApplied: 0 });
      expect((await findUserByLogin(t.deps.db, "pre.idle"))!.password_hash).toBe(next);
      await t.smtp.waitForMessage((m) => m.envelopeTo.includes("pre.idle@dealer.example") && m.subject === NOTICE);
    });
  });
});
