import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { isCodeMail } from "../support/mailbox.ts";
import { extractCode } from "../support/smtp.ts";

const SECOND = 1000;
const DESK = "desk@dealer.example";

/**
 * Attacker (b): one of twelve staff who share the dealership's desk mailbox (and its public address)
 * tries to make her colleagues' enrolment fail: she enrols the same address at the same time, presses
 * Regenerate OTP as often as it lets her, and types wrong codes. Each colleague's code is her own
 * sign-in's: none of that voids, replaces or locks it, and each confirms.
 */
describe("a colleague at the shared desk mailbox", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** The code mailed to the desk for this login ID (the mail names it) since `mark`. */
  async function codeFor(loginId: string, mark: number): Promise<string> {
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(DESK) && t.smtp.messages.indexOf(m) >= mark && isCodeMail(m.subject) && m.text.includes(loginId), 10_000);
    return extractCode(mail.text);
  }

  it("SPEC Locks / item 2: twelve enrol the desk address at once; one colleague's Regenerates and wrong codes void, replace or lock none of the others' codes", async () => {
    const staff = await Promise.all(Array.from({ length: 12 }, () => addUser(t.deps, { email: null })));
    const browsers = staff.map(() => new FormClient(t.app, "198.51.100.77"));
    const mark = t.smtp.messages.length;
    for (const [i, user] of staff.entries()) {
      expect((await submitPassword(browsers[i]!, user.login_id, user.password)).headers.location).toBe("/enrol");
      await browsers[i]!.get("/enrol");
      expect((await browsers[i]!.post("/enrol", { email: DESK, confirmEmail: DESK })).headers.location).toMatch(/^\/otp\b/);
    }
    const codes = await Promise.all(staff.map((user) => codeFor(user.login_id, mark)));
    // The saboteur (staff[0]): every Regenerate she is allowed, and wrong codes in between.
    const saboteur = browsers[0]!;
    await saboteur.get("/otp");
    for (let i = 0; i < 6; i += 1) {
      t.clock.advance(31 * SECOND);
      await saboteur.post("/otp/regenerate", {});
      await saboteur.get("/otp");
      await saboteur.post("/otp", { code: "000000" });
    }
    for (const [i, user] of staff.entries()) {
      if (i === 0) continue;
      await browsers[i]!.get("/otp");
      const answer = await browsers[i]!.post("/otp", { code: codes[i]! });
      expect([user.login_id, answer.statusCode, answer.headers.location]).toEqual([user.login_id, 303, "/"]);
    }
    const confirmed = await t.deps.db.selectFrom("users").select("otp_email").where("id", "in", staff.slice(1).map((u) => u.id)).execute();
    expect(confirmed.map((u) => u.otp_email)).toEqual(Array(11).fill(DESK));
  });
});
