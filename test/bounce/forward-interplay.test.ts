import { describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { FORWARD_BOUNCES } from "../../src/bounce/forward-reports.ts";
import { bounceListenerApp } from "../support/bounce-app.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import { extractCode, type ReceivedMail } from "../support/smtp.ts";
import { DIALECTS } from "../store/dialects.ts";

const MINUTE = 60_000;
/** Each code mail another occasion: more than the code validity (FAMOS_OTP_TTL) after the one before (forward-reports.ts forwardCounts). */
const HOUR = 60 * MINUTE;

/**
 * Forwards' reports and the address mailed (forward-reports.ts forwardBounceSet): one dead mailbox behind a
 * desk's shared address marks nothing while colleagues confirm the codes it brings them; a one-person alias to
 * a deleted mailbox, which never confirms one, is marked after FORWARD_BOUNCES of them and cleared by a later
 * confirmation. And a forward's report first does not hide the address's own. Real
 * smtp-server and DSNs read as the listener reads them; SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("forward reports and the address mailed (%s)", (database) => {
  const app = bounceListenerApp(database);
  let ip = 0;
  const codeMailFor = (email: string) => {
    app.t.clock.advance(HOUR);
    return codeMail(app.t, email, `10.29.${Math.floor(ip / 200) + 3}.${(ip += 1) % 200}`);
  };
  const bounce = (mail: ReceivedMail, finalRecipient?: string) =>
    sendFromNullSender(app.listener.port, mail.envelopeFrom, dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: `550 5.1.1 <${finalRecipient ?? "x"}>: User unknown`, finalRecipient }));

  it("a forward's report, then the address's own: the address is marked", async () => {
    const email = `a.${database}@dealer.example`;
    const { mail } = await codeMailFor(email);
    await bounce(mail, `staff.a.${database}@staff.dealer.example`);
    await bounce(mail);
    expect(await addressProblems(app.t.deps.db, email)).toMatchObject({ undeliverableAt: expect.any(Number) });
  });

  it("a desk of 12, one member's forward dead: colleagues confirm their codes, the desk's address is never marked", async () => {
    const desk = `desk.${database}@dealer.example`;
    for (let round = 0; round < 12; round += 1) {
      const { client, mail } = await codeMailFor(desk);
      await bounce(mail, `left.${database}@staff.dealer.example`);
      expect((await client.get("/otp")).body).not.toContain("could not be delivered");
      app.t.clock.advance(MINUTE);
      expect((await client.post("/otp", { code: extractCode(mail.text) })).statusCode).toBe(303);
    }
    expect(await addressProblems(app.t.deps.db, desk)).toBeNull();
  });

  it(`one person's alias (j.doe@ -> jane.doe@, mailbox deleted): marked after ${FORWARD_BOUNCES} messages' forward reports, cleared by a later confirmation`, async () => {
    const email = `j.doe.${database}@dealer.example`;
    const dead = `jane.doe.${database}@dealer.example`;
    for (let i = 1; i < FORWARD_BOUNCES; i += 1) {
      const { mail } = await codeMailFor(email);
      await bounce(mail, dead);
      await bounce(mail, dead); // the same message's report again counts once
    }
    expect(await addressProblems(app.t.deps.db, email)).toBeNull();
    const { client, mail } = await codeMailFor(email);
    // Named with a display name this time: a third person's name, never in the words support reads.
    await bounce(mail, `Jane Doe <${dead}>`);
    const problems = await addressProblems(app.t.deps.db, email);
    expect(problems).toMatchObject({ undeliverableAt: expect.any(Number), undeliverableReason: expect.stringContaining("→ j•••@dealer.example") });
    expect(problems?.undeliverableReason).not.toContain(dead);
    expect(problems?.undeliverableReason).toMatch(/^→ j•••@dealer\.example: 550 /);
    expect((await client.get("/otp")).body).toContain("could not be delivered");
    // The holder reads a later code at last (the alias fixed): mail reaches the address, the count starts again.
    app.t.clock.advance(MINUTE);
    const { mail: later, client: holder } = await codeMailFor(email);
    await holder.get("/otp");
    expect((await holder.post("/otp", { code: extractCode(later.text) })).statusCode).toBe(303);
    expect(await addressProblems(app.t.deps.db, email)).toBeNull();
  });
});
