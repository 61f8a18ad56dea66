import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { factorsOf } from "../../src/strong-factors/factors.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { atOtp, recoveryCodesFrom, setUpAppOnProfile } from "./helpers.ts";

const USED_SUBJECT = "A FAMOS recovery code was used";
const REUSED_SUBJECT = "A used FAMOS code was entered again";

describe("recovery codes (NIST SP 800-63B look-up secrets)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_LOCK_AFTER: "5" } });
  });
  afterAll(async () => t.close());

  async function userWithCodes(email: string) {
    const user = await addUser(t.deps, { email });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    const { recoveryCodes } = await setUpAppOnProfile(t, client);
    return { user, client, recoveryCodes };
  }

  async function useCode(user: { login_id: string; password: string; otp_email: string | null }, code: string, ip: string) {
    const client = await atOtp(t, user, ip);
    await client.get("/otp/recovery");
    return { client, answer: await client.post("/otp/recovery", { code }) };
  }

  it("ten are shown once at app setup, and stored only as keyed hashes", async () => {
    const { user, recoveryCodes } = await userWithCodes("rc.shown@dealer.example");
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const rows = await t.deps.db.selectFrom("recovery_codes").selectAll().where("user_id", "=", user.id).execute();
    expect(rows).toHaveLength(10);
    for (const row of rows) for (const code of recoveryCodes) expect(row.code_hash).not.toContain(code.replace("-", ""));
  });

  it("each works once; the count falls; the user is mailed how many remain", async () => {
    const { user, recoveryCodes } = await userWithCodes("rc.once@dealer.example");
    const mark = t.smtp.messages.length;
    const first = await useCode(user, recoveryCodes[0]!.toUpperCase().replace("-", " "), "10.6.0.1");
    expect(first.answer.statusCode).toBe(303);
    expect((await first.client.get("/profile")).statusCode).toBe(200);
    expect((await factorsOf(t.deps.db, user.id)).recoveryCodesLeft).toBe(9);

    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("rc.once@dealer.example") && m.subject === USED_SUBJECT && t.smtp.messages.indexOf(m) >= mark);
    const parsed = await simpleParser(mail.raw);
    expect(parsed.text).toContain("You have 9 recovery codes left");
    expect(parsed.text).toContain(user.login_id);

    const again = await useCode(user, recoveryCodes[0]!, "10.6.0.2");
    expect(again.answer.statusCode).toBe(401);
    expect(again.answer.body).toContain("already been used");
    expect(again.answer.body).toMatch(/role="alert" id="code-error">[^<]+<[\s\S]*id="recoveryCode"[^>]* autofocus aria-invalid="true" aria-describedby="code-error">/);

    expect((await useCode(user, recoveryCodes[1]!, "10.6.0.3")).answer.statusCode).toBe(303);
    expect((await factorsOf(t.deps.db, user.id)).recoveryCodesLeft).toBe(8);
    const second = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("rc.once@dealer.example") && /You have 8 recovery codes left/.test(m.text));
    expect(second.subject).toBe(USED_SUBJECT);
  });

  it("a used recovery code entered again is refused, and its holder is told at most once an hour", async () => {
    const { user, recoveryCodes } = await userWithCodes("rc.reused@dealer.example");
    expect((await useCode(user, recoveryCodes[2]!, "10.6.1.1")).answer.statusCode).toBe(303);
    const notices = () =>
      t.deps.db.selectFrom("outbox").select("subject").where("user_id", "=", user.id).where("kind", "=", "notice.code-reused").execute();
    expect(await notices()).toEqual([]);

    const replay = await useCode(user, recoveryCodes[2]!, "10.6.1.2");
    expect(replay.answer.statusCode).toBe(401);
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("rc.reused@dealer.example") && m.subject === REUSED_SUBJECT);
    const parsed = await simpleParser(mail.raw);
    expect(parsed.text).toContain("A recovery code that had already been used was entered again");
    expect(parsed.text).toContain(user.login_id);

    // Someone replaying it over and over does not flood the mailbox: one notice an hour.
    for (const ip of ["10.6.1.3", "10.6.1.4"]) expect((await useCode(user, recoveryCodes[2]!, ip)).answer.statusCode).toBe(401);
    expect(await notices()).toHaveLength(1);
    t.clock.advance(61 * 60_000);
    expect((await useCode(user, recoveryCodes[2]!, "10.6.1.5")).answer.statusCode).toBe(401);
    expect(await notices()).toHaveLength(2);
    expect(await t.deps.db.selectFrom("audit").select("id").where("subject", "=", user.login_id).where("event", "=", "recovery-code.reused").execute()).toHaveLength(4);
  });

  it("two requests racing with one recovery code: exactly one signs in", async () => {
    const { user, recoveryCodes } = await userWithCodes("rc.race@dealer.example");
    const a = await atOtp(t, user, "10.7.0.1");
    const b = await atOtp(t, user, "10.7.0.2");
    const answers = await Promise.all([a.post("/otp/recovery", { code: recoveryCodes[3]! }), b.post("/otp/recovery", { code: recoveryCodes[3]! })]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([303, 401]);
    expect((await factorsOf(t.deps.db, user.id)).recoveryCodesLeft).toBe(9);
  });

  it("a new set (Profile, Generate new recovery codes) voids the old one", async () => {
    const { user, client, recoveryCodes: old } = await userWithCodes("rc.renew@dealer.example");
    await client.get("/profile");
    const renewed = await client.post("/profile/recovery-codes", {});
    expect(renewed.statusCode).toBe(200);
    const fresh = recoveryCodesFrom(renewed.body);
    expect(fresh).toHaveLength(10);
    expect(fresh.some((c) => old.includes(c))).toBe(false);
    const oldOne = await useCode(user, old[0]!, "10.8.0.1");
    expect(oldOne.answer.statusCode).toBe(401);
    expect((await useCode(user, fresh[0]!, "10.8.0.2")).answer.statusCode).toBe(303);
  });

  it("wrong recovery codes count toward the same lock as wrong emailed codes", async () => {
    const { user, recoveryCodes } = await userWithCodes("rc.lock@dealer.example");
    const client = await atOtp(t, user, "10.9.0.1");
    for (let i = 0; i < 3; i++) expect((await client.post("/otp", { code: "999999" })).statusCode).toBe(401);
    for (let i = 0; i < 2; i++) expect((await client.post("/otp/recovery", { code: "aaaaa-aaaaa" })).statusCode).toBe(401);
    const locked = await client.post("/otp/recovery", { code: recoveryCodes[0]! });
    expect(locked.statusCode).toBe(429);
    expect((await factorsOf(t.deps.db, user.id)).recoveryCodesLeft).toBe(10);
  });

  it("refuses malformed input with a clear message, changing nothing", async () => {
    const { user } = await userWithCodes("rc.bad@dealer.example");
    const client = await atOtp(t, user, "10.10.0.1");
    for (const bad of ["", "x", "0000000000", "abcde-fghij-k", "<script>"]) {
      const answer = await client.post("/otp/recovery", { code: bad });
      expect(answer.statusCode, bad).toBe(400);
      expect(answer.body).toContain("Enter one of your recovery codes");
    }
  });
});
