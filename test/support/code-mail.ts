import { expect } from "vitest";
import { addUser, type TestApp } from "./app.ts";
import { FormClient, submitPassword } from "./client.ts";

/** A new user at `email` signed in with the password, at OTP capture from `ip`, and the code mail as the test's receiving server got it. */
export async function codeMailFor(t: TestApp, email: string, ip: string) {
  const user = await addUser(t.deps, { email });
  const client = new FormClient(t.app, ip);
  const before = t.smtp.messages.length;
  expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
  const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(email) && t.smtp.messages.indexOf(m) >= before);
  return { user, client, mail };
}
