import { describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { bounceListenerApp } from "../support/bounce-app.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import type { ReceivedMail } from "../support/smtp.ts";
import { DIALECTS } from "../store/dialects.ts";

/**
 * A report naming the SAME mailbox FAMOS mailed, written otherwise (RFC 6533's utf-8 type and its \\x{..}
 * encoding, the IDN domain in Unicode, the domain's trailing dot, a display name, a needlessly quoted local
 * part), is that address's own bounce (reportedAddressKey), not a forward's: the address is marked, nothing
 * is audited as mail.forward-bounced. Real smtp-server and DSNs read as the listener reads them.
 */
describe.each(DIALECTS)("forwardOf misreads the mailed address (%s)", (database) => {
  const app = bounceListenerApp(database);
  let ip = 0;
  const codeMailFor = (email: string) => codeMail(app.t, email, `10.19.3.${(ip += 1)}`);
  /** A 5.1.1 DSN whose Final-Recipient field is written exactly as `field` (address type included). */
  const hardBounce = (mail: ReceivedMail, field: string) =>
    sendFromNullSender(app.listener.port, mail.envelopeFrom,
      dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 User unknown", finalRecipient: "@@FR@@" }).replace("rfc822; @@FR@@", field));

  const forwardAudits = async () => Number((await app.t.deps.db.selectFrom("audit").select((eb) => eb.fn.countAll().as("n")).where("event", "=", "mail.forward-bounced").executeTakeFirstOrThrow()).n);
  const markedAsForward = async (email: string, before: number) => {
    // The cause: the address's own report was taken for a forward's (audited as mail.forward-bounced), and the address left unmarked.
    expect(await forwardAudits()).toBe(before);
    expect(await addressProblems(app.t.deps.db, email)).toMatchObject({ undeliverableAt: expect.any(Number) });
  };

  it("the same address in other letters is the address", async () => {
    const email = `control.${database}@dealer.example`;
    const { mail } = await codeMailFor(email);
    const before = await forwardAudits();
    await hardBounce(mail, `rfc822; <CONTROL.${database}@Dealer.Example>`);
    await markedAsForward(email, before);
  });

  it("RFC 6533 utf-8 address type, xtext-encoded '+' (\\x{2B}) of a +tag address", async () => {
    const email = `jane+famos.${database}@dealer.example`;
    const { mail } = await codeMailFor(email);
    const before = await forwardAudits();
    await hardBounce(mail, `utf-8; jane\\x{2B}famos.${database}@dealer.example`);
    await markedAsForward(email, before);
  });

  it("IDN: mailed as xn-- (addresses are ASCII), reported in Unicode by an SMTPUTF8 server", async () => {
    const email = `jane.${database}@xn--autohaus-mller-psb.example`; // autohaus-müller.example
    // smtp-server (the test's receiving MTA, like SMTPUTF8 MTAs) reads the xn-- domain in Unicode.
    const { mail } = await codeMail(app.t, email, `10.19.4.${(ip += 1)}`, `jane.${database}@autohaus-müller.example`);
    const before = await forwardAudits();
    await hardBounce(mail, `utf-8; jane.${database}@autohaus-müller.example`);
    await markedAsForward(email, before);
  });

  it("a fully qualified domain with its trailing dot", async () => {
    const email = `desk.${database}@dealer.example`;
    const { mail } = await codeMailFor(email);
    const before = await forwardAudits();
    await hardBounce(mail, `rfc822; desk.${database}@dealer.example.`);
    await markedAsForward(email, before);
  });

  it("a display name with the address in <...> (non-conforming MTAs; webhook providers' 'Name <addr>')", async () => {
    const email = `parts.${database}@dealer.example`;
    const { mail } = await codeMailFor(email);
    const before = await forwardAudits();
    await hardBounce(mail, `rfc822; Parts Desk <parts.${database}@dealer.example>`);
    await markedAsForward(email, before);
  });

  it("a needlessly quoted local part", async () => {
    const email = `service.${database}@dealer.example`;
    const { mail } = await codeMailFor(email);
    const before = await forwardAudits();
    await hardBounce(mail, `rfc822; "service.${database}"@dealer.example`);
    await markedAsForward(email, before);
  });
});
