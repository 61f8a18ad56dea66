import { expect } from "vitest";
import { addUser, type TestApp } from "./app.ts";
import { FormClient, submitPassword } from "./client.ts";

/**
 * `user` signed in with the password, at OTP capture from `ip`, and the code mail as the test's receiving server
 * got it: at `receivedAs`, when that server reads the address otherwise than it was mailed (an IDN's xn-- domain
 * in Unicode, as SMTPUTF8 servers do).
 */
export async function codeMailTo(t: TestApp, user: { login_id: string; password: string; otp_email: string | null }, ip: string, receivedAs = user.otp_email!) {
  const client = new FormClient(t.app, ip);
  const before = t.smtp.messages.length;
  expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
  const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(receivedAs) && t.smtp.messages.indexOf(m) >= before);
  return { client, mail };
}

/** A new user at `email` signed in with the password, at OTP capture from `ip`, and the code mail (codeMailTo). */
export async function codeMailFor(t: TestApp, email: string, ip: string, receivedAs = email) {
  const user = await addUser(t.deps, { email });
  return { user, ...(await codeMailTo(t, user, ip, receivedAs)) };
}
