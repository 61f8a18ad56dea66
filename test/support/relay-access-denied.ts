import { expect } from "vitest";
import { addUser, type TestApp } from "./app.ts";
import { FormClient, submitPassword } from "./client.ts";

/**
 * A staff member `name`@elsewhere.example at OTP capture, signed in from `ip` while the relay answers her
 * address alone "554 5.7.1 … Relay access denied" at RCPT TO (a relay that relays to its own domains only),
 * after the sender's first try: her code's mail waits, the rest of the mail goes.
 */
export async function atOtpWhileRelayDenied(t: TestApp, name: string, ip: string) {
  const user = await addUser(t.deps, { loginId: name, email: `${name}@elsewhere.example` });
  t.smtp.rejectPermanently(true, 554, `5.7.1 <${user.otp_email!}>: Relay access denied`, [user.otp_email!]);
  const client = new FormClient(t.app, ip);
  expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
  await t.services.sender.drain();
  return { user, client };
}
