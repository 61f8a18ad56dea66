import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importUsersCsv } from "../../src/cli/import-file.ts";
import { verifyPassword } from "../../src/password/hash.ts";
import { findUserByLogin } from "../../src/users/users.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";
import { bcryptHash, djangoPbkdf2, HEADER } from "./import-fixtures.ts";

const OPERATOR = { actor: "operator:test", ip: "cli", userAgent: "famos-cli" };

describe.each(["sqlite", "postgres"] as const)("an imported user signs in (import in-process, sign-in over HTTP) on %s", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t.close());

  it("enrols a bcrypt-imported user with no email, signs in, and upgrades the hash to argon2id", async () => {
    const password = "my old portal password";
    const imported = bcryptHash(password, "2y");
    const result = await importUsersCsv(t.deps, `${HEADER}\nlegacy.user,Legacy User,04711,,,${imported}\n`, { update: false, actor: OPERATOR });
    expect(result).toMatchObject({ ok: true, added: 1, refused: [] });
    expect((await findUserByLogin(t.deps.db, "legacy.user"))?.password_hash).toBe(imported);

    const client = new FormClient(t.app);
    const step = await submitPassword(client, "Legacy.User", password);
    expect(step.headers.location).toBe("/enrol");
    const upgraded = (await findUserByLogin(t.deps.db, "legacy.user"))!.password_hash;
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(upgraded, password)).toEqual({ ok: true, needsUpgrade: false });

    await client.get("/enrol");
    const before = t.smtp.messages.length;
    expect((await client.post("/enrol", { email: "legacy@dealer.example", confirmEmail: "legacy@dealer.example" })).statusCode).toBe(303);
    const code = await nextCode(t.smtp, "legacy@dealer.example", before);
    await client.get("/otp");
    expect((await client.post("/otp", { code })).headers.location).toBe("/");
    expect((await client.get("/")).body).toContain("Sign out");
    expect((await findUserByLogin(t.deps.db, "legacy.user"))?.otp_email).toBe("legacy@dealer.example");
  });

  it("signs a PBKDF2-imported user with a given email straight into OTP capture", async () => {
    const password = "django era password";
    const csv = `${HEADER}\r\ndjango.user,Django User,1,support,django@dealer.example,${djangoPbkdf2(password, "abcSalt", 2000)}\r\n`;
    expect(await importUsersCsv(t.deps, csv, { update: false, actor: OPERATOR })).toMatchObject({ ok: true, added: 1 });
    const user = (await findUserByLogin(t.deps.db, "django.user"))!;
    expect(user.role).toBe("support");
    await signInFully(new FormClient(t.app), t.smtp, { login_id: "django.user", password, otp_email: "django@dealer.example" });
    expect((await findUserByLogin(t.deps.db, "django.user"))!.password_hash).toMatch(/^\$argon2id\$/);
  });

  it("with --update, a new hash ends the user's live session and the old password stops working", async () => {
    const csv = (hash: string) => `${HEADER}\nrotated,Rotated User,1,,rotated@dealer.example,${hash}\n`;
    await importUsersCsv(t.deps, csv(bcryptHash("first password here")), { update: false, actor: OPERATOR });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, { login_id: "rotated", password: "first password here", otp_email: "rotated@dealer.example" });
    expect((await client.get("/profile")).statusCode).toBe(200);

    const refused = await importUsersCsv(t.deps, csv(bcryptHash("second password here")), { update: false, actor: OPERATOR });
    expect(refused).toMatchObject({ ok: true, added: 0, refused: [{ line: 2, reason: expect.stringContaining("already exists") }] });
    const updated = await importUsersCsv(t.deps, csv(bcryptHash("second password here")), { update: true, actor: OPERATOR });
    expect(updated).toMatchObject({ ok: true, updated: 1, refused: [] });

    expect((await client.get("/profile")).statusCode).toBe(303);
    expect((await submitPassword(new FormClient(t.app), "rotated", "first password here")).statusCode).toBe(401);
    expect((await submitPassword(new FormClient(t.app), "rotated", "second password here")).headers.location).toBe("/otp");
  });

  it("writes 1,200 rows in batches of 500, reporting progress, and refuses existing ones found in any batch", async () => {
    const hash = bcryptHash("batch password here");
    const rows = Array.from({ length: 1200 }, (_, i) => `batch${i},Batch ${i},${i},,,${hash}`);
    const progress: number[] = [];
    let total = -1;
    const first = await importUsersCsv(t.deps, [HEADER, ...rows.slice(0, 700)].join("\n"), { update: false, actor: OPERATOR });
    expect(first).toMatchObject({ ok: true, added: 700 });
    const second = await importUsersCsv(t.deps, [HEADER, ...rows].join("\n"), {
      update: false,
      actor: OPERATOR,
      onStart: (n) => (total = n),
      onProgress: (done) => progress.push(done),
    });
    expect(total).toBe(1200);
    expect(progress).toEqual([500, 1000, 1200]);
    expect(second).toMatchObject({ ok: true, added: 500 });
    if (!second.ok) return;
    expect(second.refused).toHaveLength(700);
    expect(second.refused[0]).toEqual({ line: 2, reason: expect.stringContaining('"batch0" already exists') });
    expect(second.refused[699]?.line).toBe(701);
  });

  it("refuses the whole file for a bad header and stores nothing", async () => {
    const result = await importUsersCsv(t.deps, "login_id,full_name\nx,y\n", { update: false, actor: OPERATOR });
    expect(result).toEqual({ ok: false, message: expect.stringContaining("missing partner_number, role, email, password_hash") });
    expect(await importUsersCsv(t.deps, "", { update: false, actor: OPERATOR })).toMatchObject({ ok: false, message: expect.stringContaining("empty") });
  });
});
