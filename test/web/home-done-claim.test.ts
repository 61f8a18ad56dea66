import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DONE_CLAIM_MS } from "../../src/audit/own-events.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";

const NOTICE = "You were already signed in: Cancel came after Confirm.";

/**
 * The home page's `/?done=already-signed-in` (portal.ts homeDone): what the records can check of it is that the
 * session confirmed its second factor within DONE_CLAIM_MS (endHalfSignedIn's "moved" means a sign-in completed).
 * A link opened in a session signed in earlier says nothing; the claim itself is test/signin/cancel-after-confirm-route.
 */
describe("the home page's already-signed-in claim (sqlite)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: "sqlite" });
  });
  afterAll(async () => t?.close());

  it("said while the session's factor was confirmed within DONE_CLAIM_MS, not after", async () => {
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, await addUser(t.deps));
    t.clock.advance(DONE_CLAIM_MS - 1);
    expect((await client.get("/?done=already-signed-in")).body).toContain(NOTICE);
    t.clock.advance(1);
    const later = await client.get("/?done=already-signed-in");
    expect(later.statusCode).toBe(200);
    expect(later.body).not.toContain(NOTICE);
  });
});
