import { afterAll, beforeAll, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";

/**
 * Regenerate OTP to an address whose mailbox refuses it (550 5.1.1 User unknown, a mailbox closed since):
 * OTP capture says the email could not be delivered, and must not also say "A new code is on its way"
 * beside it. That earlier codes no longer work is still true, and still said. Through HTTP, with the real
 * smtp-server refusing that recipient only.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

it("after a regenerate whose email the mailbox refused, says it was not delivered and that earlier codes no longer work, not that a new code is on its way", async () => {
  const user = await addUser(t.deps, { loginId: "closed-box", email: "closed-box@dealer.example" });
  const client = new FormClient(t.app, "10.9.1.1");
  const before = t.smtp.messages.length;
  expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
  await nextCode(t.smtp, user.otp_email!, before);
  await client.get("/otp");
  t.clock.advance(60_000);
  t.smtp.rejectPermanently(true, 550, "5.1.1 <closed-box@dealer.example>: User unknown", [user.otp_email!]);
  try {
    const regenerated = await client.post("/otp/regenerate");
    expect(regenerated.statusCode).toBe(303);
    await t.services.sender.drain();
    const page = (await client.get(regenerated.headers.location as string)).body;
    expect(page).toContain("could not be delivered");
    expect(page).not.toContain("A new code is on its way");
    expect(page).toContain("Codes sent before this one no longer work.");
  } finally {
    t.smtp.rejectPermanently(false);
  }
});
