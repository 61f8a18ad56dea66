import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { FormClient, signIn, type TestUser } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * QA: the support console showed the role names `user`, `support`, `admin` untranslated in every
 * language. A German administrator reads them in German: the user's page, its role form, search results
 * and the new user form; the values posted stay the roles' own names.
 */
describe("role names in the console speak the reader's language (a German administrator)", () => {
  let u: UnitApp;
  let agent: FormClient;
  let target: TestUser;

  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    const app = { app: u.app, mailbox: u.mailbox, deps: u.deps };
    const me = await addUser(u.deps, { role: "admin", loginId: "role.admin", email: "role.admin@famos.test" });
    agent = (await signIn(app, { user: me })).client;
    expect((await agent.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" })).statusCode).toBe(303);
    target = await addUser(u.deps, { loginId: "role.target", fullName: "Rolf Rolle", partnerNumber: "07071", email: "role.target@dealer.example" });
  });
  afterAll(async () => u?.close());

  it("the user's page and its role form", async () => {
    const page = (await agent.get(`/support/users/${target.id}`)).body;
    expect(page).toContain("<dt>Rolle</dt><dd>Benutzer</dd>");
    expect(page).toContain('<option value="user" selected>Benutzer</option><option value="support">Support</option><option value="admin">Administrator</option>');
  });

  it("search results", async () => {
    const page = (await agent.get("/support?q=role.target")).body;
    expect(page).toContain("<td>07071</td><td>Benutzer</td>");
  });
});
