import type { FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";

const NOTICE = "You were already signed in: Cancel came after Confirm.";

/**
 * "User profile"'s Cancel (/enrol/cancel) whose request read the session before the same sign-in was completed
 * in another tab of the same browser (the address sent, its code confirmed): endHalfSignedIn answers "moved",
 * the Cancel cancels nothing, and it lands where OTP capture's Cancel does in the same case: the home page
 * saying why it is signed in (`/?done=already-signed-in`, checkedDoneNotice). The other tab's steps are run by a
 * hook of the test's own, after the Cancel's session was read and before its handler, from the same cookie
 * jar. (A Cancel sent from the page after that is refused before it is read: its form's token was made from
 * the secret the sign-in's steps rotated, setSessionCookie.)
 */
describe.each(["sqlite", "postgres"] as const)("Cancel at User profile after Confirm, over HTTP (%s)", (database) => {
  let t: TestApp;
  let confirmFirst: FormClient | null = null;

  beforeAll(async () => {
    t = await createTestApp({
      database,
      beforeReady: (app) =>
        app.addHook("preHandler", async (request: FastifyRequest) => {
          const client = confirmFirst;
          if (client === null || request.method !== "POST" || request.url !== "/enrol/cancel") return;
          confirmFirst = null;
          await completeElsewhere(client);
        }),
    });
  });
  afterAll(async () => t?.close());

  let count = 0;
  /** The other tab: the address sent at User profile, OTP capture shown, the code mailed confirmed. */
  async function completeElsewhere(client: FormClient): Promise<void> {
    const email = `enrol.cancel.${(count += 1)}.${database}@dealer.example`;
    const mark = await t.mailbox.mark();
    expect((await client.post("/enrol", { email, confirmEmail: email })).headers.location).toBe("/otp?notice=sent");
    await client.get("/otp");
    const code = await t.mailbox.code(email, mark);
    expect((await client.post("/otp", { code })).statusCode).toBe(303);
  }

  it("the Cancel read before the other tab's Confirm: signed in, the home page says so once, nothing cancelled", async () => {
    const user = await addUser(t.deps, { email: null });
    const { client } = await signIn(t, { user, until: "enrol" });
    confirmFirst = client;
    const cancel = await client.post("/enrol/cancel", {});
    expect(confirmFirst).toBeNull();
    expect(cancel.statusCode).toBe(303);
    expect(cancel.headers.location).toBe("/?done=already-signed-in");
    const home = (await client.get(cancel.headers.location as string)).body;
    expect(home.split(NOTICE)).toHaveLength(2);
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "code.cancelled" })).toEqual([]);
  });
});
