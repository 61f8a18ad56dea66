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
  });
});
