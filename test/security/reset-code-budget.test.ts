import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signIn, submitPassword } from "../support/client.ts";
import { until } from "../support/until.ts";

const PER_HOUR = 6;
/** hourCap: the reset's share of the hour's codes. */
const RESET_SHARE = PER_HOUR / 2;

/**
 * SPEC "Locks": "a stranger who knows a login ID cannot keep its owner out of her usual browser".
 * With FAMOS_PASSWORD_RESET=self, "Forgot password?" needs nothing but a login ID, and each request
 * mails a code. Those codes counted toward the account's FAMOS_OTP_PER_HOUR, so a stranger's
 * FAMOS_OTP_PER_HOUR requests an hour spent the owner's budget: her sign-in, in her usual browser too,
 * then sent no code ("hour-cap") for the rest of the hour, again every hour (found against a real
 * `famos serve`: 12 requests for a login ID, then the owner's sign-in went to /otp?notice=hour-cap and
 * no mail came). The reset's codes now stop at half the hour's budget, which bounds the mail a
 * stranger can send, and the rest stays for the codes a password (or a session) asks for; every code
 * still counts toward FAMOS_OTP_PER_HOUR (SPEC "Regenerate": "counting every code sent").
 */
describe.each(["sqlite", "postgres"] as const)("the reset's codes spend at most half the hourly budget, on %s", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_PASSWORD_RESET: "self", FAMOS_OTP_PER_HOUR: String(PER_HOUR), FAMOS_OTP_RESEND_WAIT: "0s" } });
  });
  afterAll(async () => t?.close());

  const codeMails = async (userId: string, kind: string) =>
    (await t.deps.db.selectFrom("outbox").select("id").where("user_id", "=", userId).where("kind", "=", kind).execute()).length;

  async function strangerAsksForReset(loginId: string, i: number): Promise<void> {
    const stranger = new FormClient(t.app, `198.51.100.${10 + i}`);
    await stranger.get("/forgot-password");
    const answer = await stranger.post("/forgot-password", { loginId });
    expect(answer.statusCode).toBe(303);
    await t.app.afterReply.settled();
  }

  it("SPEC Locks / NIST SP 800-63B 5.2.2: a stranger's resets, past the hourly cap, leave the owner's sign-in its codes, in her usual browser and a new one", async () => {
    const owner = await addUser(t.deps, { email: `budget-${database}@dealer.example` });
    // Her usual browser: a completed sign-in (one code of her budget spent).
    const usual = await signIn(t, { user: owner, client: new FormClient(t.app, "192.0.2.20"), page: null });
    await usual.client.get("/profile");
    await usual.client.post("/logout");

    for (let i = 0; i < PER_HOUR + 2; i += 1) await strangerAsksForReset(owner.login_id, i);
    // The mail a stranger can cause stays bounded by the reset's share.
    expect(await codeMails(owner.id, "code.password-reset")).toBe(RESET_SHARE);
    // Delivered before the owner signs in, so the code she reads is her sign-in's.
    await until("the reset codes delivered", () => t.smtp.messages.filter((m) => m.envelopeTo.includes(owner.otp_email!)).length === 1 + RESET_SHARE);

    // The owner signs in, from her usual browser and from a new one: each gets its code.
    await signIn(t, { user: owner, client: usual.client, page: null });
    await signIn(t, { user: owner, client: new FormClient(t.app, "192.0.2.21"), page: null });
    // Every code counts toward the hour's cap: the owner's three and the stranger's three are six.
    expect(await codeMails(owner.id, "code.signin")).toBe(3);

    // The cap still holds, counting every code sent: a fourth sign-in code within the hour is refused.
    const fourth = await submitPassword(new FormClient(t.app, "192.0.2.22"), owner.login_id, owner.password);
    expect(fourth.headers.location).toMatch(/^\/otp\?notice=hour-cap/);
    expect(await codeMails(owner.id, "code.signin")).toBe(3);
  });
});
