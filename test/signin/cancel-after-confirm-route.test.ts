import type { FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";

const NOTICE = "You were already signed in: Cancel came after Confirm.";

/**
 * OTP capture's Cancel whose request loaded the session before a Confirm of the same sign-in (the other
 * tab, the other button of a double click) was answered: the Cancel is a no-op ("moved", code-step.ts)
 * and the browser, keeping the session, lands on the portal's home page, which says why it is signed in
 * though it clicked Cancel. The Confirm is sent by a hook of the test's own, run after the Cancel's
 * session was read and before its handler, from the same browser (one cookie jar, as two tabs share).
 * The words are keyed (`?done=`), never taken from the address: anything else there says nothing.
 */
describe.each(["sqlite", "postgres"] as const)("Cancel after Confirm at OTP capture, over HTTP (%s)", (database) => {
  let t: TestApp;
  let confirmFirst: { client: FormClient; code: string } | null = null;

  beforeAll(async () => {
    t = await createTestApp({
      database,
      beforeReady: (app) =>
        app.addHook("preHandler", async (request: FastifyRequest) => {
          const armed = confirmFirst;
          if (armed === null || request.method !== "POST" || request.url !== "/otp/cancel") return;
          confirmFirst = null;
          expect((await armed.client.post("/otp", { code: armed.code })).statusCode).toBe(303);
        }),
    });
  });
  afterAll(async () => t?.close());

  it("the Cancel answered after the Confirm: signed in, the home page says so once, no cancellation", async () => {
    const user = await addUser(t.deps);
    const { client, code } = await signIn(t, { user, until: "otp" });
    confirmFirst = { client, code: code! };
    const cancel = await client.post("/otp/cancel", {});
    expect(confirmFirst).toBeNull();
    expect(cancel.statusCode).toBe(303);
    expect(cancel.headers.location).toBe("/?done=already-signed-in");
    const home = await client.get(cancel.headers.location as string);
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain(NOTICE);
    expect(home.body.split(NOTICE)).toHaveLength(2);
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "code.cancelled" })).toEqual([]);
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "code.confirmed" })).toHaveLength(1);
    // The page as reloaded later, or reached without the key: no words.
    expect((await client.get("/")).body).not.toContain(NOTICE);
    expect((await client.get("/?done=%3Cb%3Ecancelled%3C/b%3E")).body).not.toContain("cancelled</b>");
  });

  it("a Cancel alone still cancels: the sign-in page, no notice of Confirm", async () => {
    const user = await addUser(t.deps);
    const { client } = await signIn(t, { user, until: "otp" });
    const cancel = await client.post("/otp/cancel", {});
    expect(cancel.headers.location).toBe("/login?cancelled=1");
    expect((await client.get("/?done=already-signed-in")).body).not.toContain(NOTICE);
  });
});
