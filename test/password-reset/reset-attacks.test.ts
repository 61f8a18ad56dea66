import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";

const NEW = "my own new passphrase 7";

/**
 * "Forgot password?" (FAMOS_PASSWORD_RESET=self) attacked over HTTP, as a browser would: the
 * browser of whoever signed in with a leaked password after the owner's reset, and a login ID built
 * to inject headers into the answer. Each attack is one case.
 */
describe("self-service password reset, attacked", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self" } });
  });
  afterAll(async () => t?.close());

  async function resetFrom(client: FormClient, loginId: string, email: string): Promise<void> {
    const before = t.smtp.messages.length;
    await client.get("/forgot-password");
    expect((await client.post("/forgot-password", { loginId })).statusCode).toBe(303);
    await t.app.afterReply.settled();
    const code = await nextCode(t.smtp, email, before);
    await client.get("/forgot-password/code");
    const done = await client.post("/forgot-password/code", { code, newPassword: NEW, confirmNewPassword: NEW });
    expect(done.headers.location).toBe("/login?reset=1");
  }

  it("the browser that signed in with the leaked password is a new browser after the owner's reset: the login ID's pause refuses it, the owner's browser still signs in", async () => {
    const user = await addUser(t.deps, { loginId: "leaked.one", email: "leaked@dealer.example" });
    const owner = new FormClient(t.app, "192.0.2.10");
    const thief = new FormClient(t.app, "198.51.100.66");
    await signInFully(owner, t.smtp, user);
    await signInFully(thief, t.smtp, user);
    await resetFrom(owner, "leaked.one", "leaked@dealer.example");
    // A stranger pauses the login ID for new browsers (FAMOS_LOCK_AFTER wrong passwords).
    const stranger = new FormClient(t.app, "203.0.113.5");
    for (let i = 0; i < t.deps.config.lock.after; i += 1) expect((await submitPassword(stranger, "leaked.one", `wrong guess ${i} here`)).statusCode).toBe(401);
    // Even with the new password (guessed, or leaked again), the thief's browser meets the pause.
    expect((await submitPassword(thief, "leaked.one", NEW)).statusCode).not.toBe(303);
    expect((await submitPassword(owner, "leaked.one", NEW)).statusCode).toBe(303);
  });

  it("a login ID carrying CR LF and cookie syntax sets no header and no cookie of its own", async () => {
    const client = new FormClient(t.app);
    await client.get("/forgot-password");
    const answer = await client.post("/forgot-password", { loginId: "x\r\nSet-Cookie: famos_session=evil; Path=/\r\nX-Injected: 1;y=2" });
    await t.app.afterReply.settled();
    expect(answer.statusCode).toBe(303);
    expect(answer.headers["x-injected"]).toBeUndefined();
    const cookies = ([] as string[]).concat(answer.headers["set-cookie"] ?? []);
    expect(cookies.filter((c) => c.startsWith("famos_session="))).toEqual([]);
    const reset = cookies.filter((c) => c.startsWith("famos_reset="));
    expect(reset).toHaveLength(1);
    expect(reset[0]).not.toMatch(/[\r\n]/);
    expect(reset[0]!.split(";")[0]).not.toContain(" ");
  });
});
