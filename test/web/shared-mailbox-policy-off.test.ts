import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";

const SHARED_LINE = "Several login IDs get their codes at this address";

/**
 * SECURITY.md, Known limits 14: that an address is another login ID's OTP email is told to whoever holds
 * a password only through the new-address review, which FAMOS_SHARED_MAILBOX_POLICY=off turns off. The
 * code step's "Several login IDs …" line must not tell it about an address just typed (enrolment, which
 * the password alone reaches, or Profile's change) where the review was silent; her own confirmed
 * address she is told of either way. SQLite, over the real forms.
 */
describe.each(["off", "warn"] as const)("the shared-mailbox line for an address just typed, FAMOS_SHARED_MAILBOX_POLICY=%s", (policy) => {
  let t: TestApp;
  const tell = policy !== "off";
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_SHARED_MAILBOX_POLICY: policy } });
  });
  afterAll(async () => t.close());

  it(`enrolment (the password alone): an address another login ID confirmed is ${tell ? "" : "not "}told shared at OTP capture`, async () => {
    const holder = await addUser(t.deps, { loginId: `holder-${policy}`, email: `sales-${policy}@dealer.example` });
    const { client } = await signIn(t, { until: "enrol" });
    const answer = await client.post("/enrol", { email: holder.otp_email!, confirmEmail: holder.otp_email!, ownMailbox: "yes" });
    expect(answer.headers.location).toMatch(/^\/otp/);
    expect((await client.get("/otp")).body.includes(SHARED_LINE)).toBe(tell);
    expect(JSON.parse((await client.get("/otp/delivery")).body).html.includes(SHARED_LINE)).toBe(tell);
  });

  it(`Profile's change to an address another login ID confirmed is ${tell ? "" : "not "}told shared at its code step; her own shared address is told at OTP capture`, async () => {
    const holder = await addUser(t.deps, { loginId: `other-${policy}`, email: `service-${policy}@dealer.example` });
    const { client } = await signIn(t);
    const sent = await client.post("/profile/email", { newEmail: holder.otp_email!, confirmNewEmail: holder.otp_email!, ownMailbox: "yes" });
    expect(sent.headers.location).toBe("/profile/email/confirm?notice=sent");
    expect((await client.get("/profile/email/confirm")).body.includes(SHARED_LINE)).toBe(tell);
    // Her own confirmed address, shared with a colleague: told under every policy.
    const mate = await addUser(t.deps, { loginId: `mate-${policy}`, email: `team-${policy}@dealer.example` });
    const self = await addUser(t.deps, { loginId: `self-${policy}`, email: mate.otp_email! });
    const own = await signIn(t, { user: self, until: "otp" });
    expect((await own.client.get("/otp")).body).toContain(SHARED_LINE);
  });
});
