import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DONE_CLAIM_MS } from "../../src/audit/own-events.ts";
import { saidOn as said } from "./done-claims.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { nextCode, signIn } from "../support/client.ts";

const NEW_PASSWORD = "purple elephant drives slowly";

/**
 * Profile's `?done=` words (profile.ts profileDone): a change's only after the signed-in user's own event of it
 * within DONE_CLAIM_MS (ownEventClaim); "email-replaced" only when the session's change was replaced
 * (emailChangeReplaced). A link sent to a user says nothing that did not happen to them.
 */
describe("Profile's ?done= claims (sqlite)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: "sqlite" });
  });
  afterAll(async () => t?.close());

  const signedInUser = async (email: string) => signIn(t, { user: await addUser(t.deps, { email }) });

  it("crafted links say nothing", async () => {
    const { client } = await signedInUser("crafted.profile@dealer.example");
    for (const done of ["email-changed", "email-cancelled", "password-changed", "email-replaced"]) {
      expect(await said(client, `/profile?done=${done}`), done).toBeNull();
    }
  });

  it("a changed password, a cancelled and a changed email say their words to that user, for DONE_CLAIM_MS", async () => {
    const { user, client } = await signedInUser("real.profile@dealer.example");
    const changed = (await client.post("/profile/password", { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD })).headers.location as string;
    expect(changed).toBe("/profile?done=password-changed");
    expect(await said(client, changed)).toContain("Your password has been changed.");
    expect(await said(client, "/profile?done=email-cancelled")).toBeNull();

    await client.get("/profile");
    expect((await client.post("/profile/email", { newEmail: "next.profile@dealer.example", confirmNewEmail: "next.profile@dealer.example" })).statusCode).toBe(303);
    await client.get("/profile/email/confirm");
    const cancelled = (await client.post("/profile/email/cancel", {})).headers.location as string;
    expect(cancelled).toBe("/profile?done=email-cancelled");
    expect(await said(client, cancelled)).toContain("The email change was cancelled.");
    expect(await said(client, "/profile?done=email-changed")).toBeNull();

    // Another user's link with the same words: none of it happened to them.
    const { client: other } = await signedInUser("other.profile@dealer.example");
    for (const done of ["password-changed", "email-cancelled"]) expect(await said(other, `/profile?done=${done}`), done).toBeNull();

    await client.get("/profile");
    const before = t.smtp.messages.length;
    await client.post("/profile/email", { newEmail: "final.profile@dealer.example", confirmNewEmail: "final.profile@dealer.example" });
    const code = await nextCode(t.smtp, "final.profile@dealer.example", before);
    await client.get("/profile/email/confirm");
    const confirmed = (await client.post("/profile/email/confirm", { code })).headers.location as string;
    expect(confirmed).toBe("/profile?done=email-changed");
    expect(await said(client, confirmed)).toContain("Your OTP email has been changed.");

    t.clock.advance(DONE_CLAIM_MS);
    for (const url of [changed, cancelled, confirmed]) expect(await said(client, url), url).toBeNull();
  });
});
