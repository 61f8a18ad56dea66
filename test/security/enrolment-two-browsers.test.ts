import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { confirmOtpEmail, findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";

/**
 * SPEC item 2: "After confirmation the user is never asked again, except after a support reset", and
 * item 6: the OTP email changes only through Profile (a fresh proof, a code to the new address, the old
 * one told, the other sessions ended). A second browser that passed the password before the owner's
 * enrolment (a colleague who knows it, or whoever stole it) still sat at "User profile" once she had
 * confirmed hers, and enrolling another address there, then confirming its code, replaced her confirmed
 * address: nobody told, her session kept, the audit trail saying only "enrolment.confirmed" twice
 * (found against a real `famos serve`). An enrolment now confirms only while the account has no
 * confirmed address, and confirming one ends the account's other sessions that have not passed a
 * second factor (DIALECTS: SQLite and PostgreSQL).
 */
describe.each(["sqlite", "postgres"] as const)("two browsers at \"User profile\" for one account, on %s", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_OTP_RESEND_WAIT: "0s" } });
  });
  afterAll(async () => t?.close());

  let n = 0;
  async function atUserProfile(user: { login_id: string; password: string }): Promise<FormClient> {
    const client = new FormClient(t.app, `198.51.100.${(n += 1)}`);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/enrol");
    await client.get("/enrol");
    return client;
  }

  async function enrol(client: FormClient, email: string) {
    const mark = t.smtp.messages.length;
    const answer = await client.post("/enrol", { email, confirmEmail: email });
    return { answer, mark };
  }

  const mailsTo = (email: string) => t.smtp.messages.filter((m) => m.envelopeTo.includes(email)).length;

  it("SPEC item 2 / ASVS 2.5.5: once the owner has confirmed her address, the other browser's enrolment neither sends a code nor replaces it", async () => {
    const owner = await addUser(t.deps, { email: null });
    const mine = await atUserProfile(owner);
    const other = await atUserProfile(owner);

    const sent = await enrol(mine, `mine.${database}@dealer.example`);
    expect(sent.answer.headers.location).toMatch(/^\/otp/);
    const code = await nextCode(t.smtp, `mine.${database}@dealer.example`, sent.mark);
    await mine.get("/otp");
    expect((await mine.post("/otp", { code })).headers.location).toBe("/");

    const late = await enrol(other, `other.${database}@evil.example`);
    expect(late.answer.headers.location ?? "").not.toMatch(/^\/otp/);
    expect((await findUserById(t.deps.db, owner.id))?.otp_email).toBe(`mine.${database}@dealer.example`);
    expect(mailsTo(`other.${database}@evil.example`)).toBe(0);
    expect((await mine.get("/profile")).statusCode).toBe(200);
  });

  it("SPEC item 2: a code the other browser was sent before the owner's enrolment, regenerated after her confirmation, does not replace her address", async () => {
    const owner = await addUser(t.deps, { email: null });
    const mine = await atUserProfile(owner);
    const other = await atUserProfile(owner);
    const evil = `early.${database}@evil.example`;

    const first = await enrol(other, evil);
    expect(first.answer.headers.location).toMatch(/^\/otp/);
    const sent = await enrol(mine, `mine2.${database}@dealer.example`);
    const code = await nextCode(t.smtp, `mine2.${database}@dealer.example`, sent.mark);
    await mine.get("/otp");
    expect((await mine.post("/otp", { code })).headers.location).toBe("/");

    const queued = () => t.deps.db.selectFrom("outbox").select("id").where("recipient", "=", evil).execute();
    const before = (await queued()).length;
    const mark = t.smtp.messages.length;
    await other.get("/otp");
    await other.post("/otp/regenerate", {});
    const regenerated = (await queued()).length - before;
    if (regenerated > 0) {
      const typed = await nextCode(t.smtp, evil, mark);
      await other.get("/otp");
      await other.post("/otp", { code: typed });
    }
    expect((await findUserById(t.deps.db, owner.id))?.otp_email).toBe(`mine2.${database}@dealer.example`);
    expect(regenerated).toBe(0);
  });

  it("SPEC item 2: an address confirmed meanwhile by other means (the operator's import) is not replaced by an enrolment's code confirmed after it", async () => {
    const owner = await addUser(t.deps, { email: null });
    const other = await atUserProfile(owner);
    const evil = `late.${database}@evil.example`;
    const sent = await enrol(other, evil);
    const code = await nextCode(t.smtp, evil, sent.mark);
    await confirmOtpEmail(t.deps.db, owner.id, `loaded.${database}@dealer.example`, t.clock.now());
    await other.get("/otp");
    expect((await other.post("/otp", { code })).headers.location).not.toBe("/");
    expect((await findUserById(t.deps.db, owner.id))?.otp_email).toBe(`loaded.${database}@dealer.example`);
  });
});
