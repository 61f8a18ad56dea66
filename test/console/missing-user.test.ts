import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * QA: a ticket's link to a user who has since been erased (or a notice's, a typo in the number)
 * answered "There is no such user." with one way on, "Go to FAMOS sign in", to an IT person who is
 * signed in and in the middle of the console. A refusal inside the console now leads back to it.
 */
describe("a console page for a user or notice that no longer exists leads back to the console (over HTTP)", () => {
  let u: UnitApp;
  let agent: FormClient;
  let gone = "";

  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    const me = await addUser(u.deps, { role: "support", loginId: "gone.agent", email: "gone.agent@famos.test" });
    const leaver = await addUser(u.deps, { loginId: "gone.leaver" });
    gone = String(leaver.id);
    await u.deps.db.deleteFrom("users").where("id", "=", leaver.id).execute();
    const inProcess = (await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps }, { user: me })).client;
    await u.app.listen({ host: "127.0.0.1", port: 0 });
    agent = new FormClient(overHttp(`http://127.0.0.1:${(u.app.server.address() as { port: number }).port}`));
    for (const [name, value] of inProcess.cookies) agent.cookies.set(name, value);
  });
  afterAll(async () => u?.close());

  it("says there is no such user and links to Find users, not to sign-in", async () => {
    for (const path of [`/support/users/${gone}`, `/support/users/${gone}/disable`, "/support/users/99999999", "/support/notices/424242", "/support/users/%E0"]) {
      const page = await agent.get(path);
      expect(page.statusCode, path).toBeGreaterThanOrEqual(400);
      expect(page.body, path).toContain('<p><a href="/support">Back to the support console</a></p>');
      expect(page.body, path).not.toContain("Go to FAMOS sign in");
    }
  });

  it("signed out, the same address still offers sign-in", async () => {
    const stranger = await new FormClient(u.app).get("/support/users/%E0");
    expect(stranger.body).toContain("Go to FAMOS sign in");
    expect(stranger.body).not.toContain("Back to the support console");
  });
});
