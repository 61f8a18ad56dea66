import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";

/** Issue 15 on Profile: the new address gets the same "Did you mean …?" and in-use reviews as enrolment. */
describe("Profile: reviewing the new OTP email", () => {
  let t: TestApp;
  let ip = 0;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  async function signedInUser(email: string) {
    const user = await addUser(t.deps, { email });
    const client = new FormClient(t.app, `10.7.0.${(ip += 1)}`);
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    return { user, client };
  }

  it("asks \"Did you mean …?\" for a slip, changes nothing, and sends the code when the typed address is kept", async () => {
    const { user, client } = await signedInUser("kim.lee@dealer.example");
    const asked = await client.post("/profile/email", { newEmail: "kim.lee@hotmial.co.uk", confirmNewEmail: "kim.lee@hotmial.co.uk" });
    expect(asked.statusCode).toBe(400);
    expect(asked.body).toContain("Did you mean <strong>kim.lee@hotmail.co.uk</strong>?");
    expect(asked.body).toContain("Use kim.lee@hotmail.co.uk");
    expect(asked.body).toContain("press Send code below to keep it");
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBeNull();

    const kept = await client.post("/profile/email", { newEmail: "kim.lee@hotmial.co.uk", confirmNewEmail: "kim.lee@hotmial.co.uk", keepTyped: "kim.lee@hotmial.co.uk" });
    expect(kept.statusCode).toBe(303);
    expect((await findUserById(t.deps.db, user.id))!.pending_email).toBe("kim.lee@hotmial.co.uk");
  });

  it("asks again when the address was changed after the question (keepTyped holds another address)", async () => {
    const { client } = await signedInUser("ann.bell@dealer.example");
    const asked = await client.post("/profile/email", { newEmail: "ann.bell@gmial.com", confirmNewEmail: "ann.bell@gmial.com", keepTyped: "ann.bell@yahoo.co.uk" });
    expect(asked.statusCode).toBe(400);
    expect(asked.body).toContain("Did you mean <strong>ann.bell@gmail.com</strong>?");
  });

  it("warns about an address another login ID confirmed, and goes on with \"This is my own mailbox\"", async () => {
    await addUser(t.deps, { email: "parts.desk@dealer.example" });
    const { client } = await signedInUser("max.ford@dealer.example");
    const warned = await client.post("/profile/email", { newEmail: "parts.desk@dealer.example", confirmNewEmail: "parts.desk@dealer.example" });
    expect(warned.statusCode).toBe(400);
    expect(warned.body).toContain("This address already receives the codes of another FAMOS login ID");
    expect(warned.body).toContain("This is my own mailbox</label>");
    const ticked = await client.post("/profile/email", { newEmail: "parts.desk@dealer.example", confirmNewEmail: "parts.desk@dealer.example", ownMailbox: "yes" });
    expect(ticked.statusCode).toBe(303);
  });
});
