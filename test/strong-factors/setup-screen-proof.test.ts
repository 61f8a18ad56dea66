import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";
import { addPasskeyOnSetup, recoveryCodesFrom } from "./helpers.ts";

/**
 * The setup screen of FAMOS_STRONG_FACTOR_ROLES asks no password for either of its two ways (its page
 * has no password field): the one rule of strong-factors/manage.ts (factorChangeProof). Before, the
 * passkey's way asked Profile's fresh proof, so a support user who took more than 15 minutes there (the
 * security key fetched from a drawer) was told to type a password the page had no field for, and had
 * to sign in again; the app's way went on.
 */
describe("the setup screen's two ways ask the same proof", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_STRONG_FACTOR_ROLES: "support,admin" } });
  });
  afterAll(async () => t.close());

  it("adds a passkey 20 minutes after the emailed code, as the app is set up then, without a password field", async () => {
    const user = await addUser(t.deps, { role: "support" });
    const { client, answer } = await signIn(t, { user, page: null });
    expect(answer.headers.location).toBe("/factor-setup");
    t.clock.advance(20 * 60_000);
    const page = await client.get("/factor-setup");
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('name="password"');
    const done = await addPasskeyOnSetup(client, "Security key");
    expect(done.statusCode).toBe(200);
    expect(recoveryCodesFrom(done.body)).toHaveLength(10);
    // The app's way, the same minute: started without a password too.
    const other = await signIn(t, { user: await addUser(t.deps, { role: "support" }), page: null });
    t.clock.advance(20 * 60_000);
    await other.client.get("/factor-setup");
    expect((await other.client.post("/factor-setup/app")).headers.location).toBe("/factor-setup/app");
  });
});
