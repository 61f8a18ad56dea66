import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBounceListener, type BounceListener } from "../../src/bounce/listener.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";

/**
 * README: the support user page shows mail.forward-bounced's forwardedTo masked. The report's words (its
 * Diagnostic-Code) and a Final-Recipient with a display name name the forwarded-to mailbox too, a third
 * person's address (a colleague's, or a private one the dealership forwards to): every address in a forward's
 * detail is masked as shown to support (detailText, maskEmailsIn). Real smtp-server and DSNs.
 */
describe("the forwarded-to address on the support user page (sqlite)", () => {
  let t: TestApp;
  let listener: BounceListener;
  let support: FormClient;
  let n = 0;
  beforeAll(async () => {
    t = await createTestApp({ database: "sqlite", env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test" } });
    listener = await startBounceListener(t.deps, { host: "127.0.0.1", port: 0 });
    const admin = await addUser(t.deps, { role: "support", email: "support.mask@famos.test" });
    support = new FormClient(t.app, "10.39.2.1");
    await signInFully(support, t.smtp, admin);
  });
  afterAll(async () => {
    await listener?.close();
    await t?.close();
  });

  it.each([
    ["a Postfix DSN (Diagnostic-Code names it in <...>)", "jane.private@gmail.example", "550 5.1.1 <jane.private@gmail.example>: Recipient address rejected: User unknown"],
    ["a Final-Recipient with a display name", "Jane Private <jane.private2@gmail.example>", "550 5.1.1 User unknown"],
  ])("%s", async (_what, finalRecipient, diagnostic) => {
    const { user, mail } = await codeMail(t, `sales.${(n += 1)}@dealer.example`, "10.39.3.1");
    await sendFromNullSender(listener.port, mail.envelopeFrom, dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic, finalRecipient }));
    const page = (await support.get(`/support/users/${user.id}`)).body;
    expect(page).toContain("forwardedTo: ");
    const bare = /[^<\s]+@[^>\s]+/.exec(finalRecipient)![0];
    expect(page).not.toContain(bare);
    expect(page).toContain(`${bare[0]}•••@gmail.example`);
    // A display name is a third person's name: dropped wherever the mailbox forwarded to is shown.
    expect(page).not.toContain("Jane Private");
  });
});

/**
 * An ordinary bounce (mail.bounced, the Final-Recipient the address FAMOS mailed): the relay's words often
 * name other mailboxes (a postmaster, a colleague the mailbox's owner left as a contact). Support sees them
 * masked as a forward's are, in the event's reason and wherever the same words are shown on the user's
 * page (the email's bounce, the delivery line); the user's own address stays as the console shows it.
 */
describe("a relay's words naming another mailbox in an ordinary bounce (sqlite)", () => {
  let t: TestApp;
  let listener: BounceListener;
  let support: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database: "sqlite", env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test" } });
    listener = await startBounceListener(t.deps, { host: "127.0.0.1", port: 0 });
    const admin = await addUser(t.deps, { role: "support", email: "support.mask2@famos.test" });
    support = new FormClient(t.app, "10.39.2.2");
    await signInFully(support, t.smtp, admin);
  });
  afterAll(async () => {
    await listener?.close();
    await t?.close();
  });

  it.each([
    ["a hard bounce", "failed", "5.1.1", "550 5.1.1 <sales.left@dealer.example>: user unknown; this mailbox has moved, write to mark.other@dealer.example"],
    ["a soft bounce", "delayed", "4.2.2", "452 4.2.2 mailbox full; contact postmaster (mark.other@dealer.example)"],
  ] as const)("%s: the other mailbox masked on the support user page", async (_what, action, status, diagnostic) => {
    const { user, mail } = await codeMail(t, `sales.${action}@dealer.example`, "10.39.3.2");
    await sendFromNullSender(listener.port, mail.envelopeFrom, dsnFor(mail, { action, status, diagnostic }));
    const page = (await support.get(`/support/users/${user.id}`)).body;
    expect(page).toContain("mail.bounced");
    expect(page).toContain("reason: ");
    expect(page).not.toContain("mark.other@dealer.example");
    expect(page).toContain("m•••@dealer.example");
    expect(page).not.toContain(`sales.${action}@dealer.example`);
  });
});
