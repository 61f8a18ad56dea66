import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { concreteUrl, snapshot } from "../security/helpers.ts";

/** Access control of the support console (SPEC item 8, "People"; ASVS 4.1.1, 4.2.1). */
describe("support console access control", () => {
  let t: TestApp;
  let target: Awaited<ReturnType<typeof addUser>>;
  let noticeId: string;
  beforeAll(async () => {
    t = await createTestApp();
    target = await addUser(t.deps, { loginId: "target.user", fullName: "Tara Get", partnerNumber: "00042", email: "target@dealer.example" });
    const admin = await addUser(t.deps, { role: "admin" });
    const client = await signedIn(admin);
    await client.get("/support/notices");
    const posted = await client.post("/support/notices", { title: "Application Issue", body: "Quotes are slow." });
    noticeId = posted.headers.location!.split("/")[3]!.split("?")[0]!;
  });
  afterAll(async () => t.close());

  async function signedIn(user: Awaited<ReturnType<typeof addUser>>): Promise<FormClient> {
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await client.get("/profile"); // a page with a CSRF token, as a browser would have
    return client;
  }

  const routes = () => {
    const id = target.id;
    const reset = { name: "Tara Get", loginId: "target.user", partnerNumber: "00042", ticket: "INC1" };
    return [
      ["GET", "/support", {}],
      ["GET", "/support?q=target", {}],
      ["GET", `/support/users/${id}`, {}],
      ["POST", `/support/users/${id}/reset`, reset],
      ["POST", `/support/users/${id}/reset/confirm`, reset],
      ["POST", `/support/users/${id}/unlock`, {}],
      ["POST", `/support/users/${id}/role`, { role: "admin" }],
      ["GET", "/support/audit", {}],
      ["GET", "/support/audit.csv", {}],
      ["GET", "/support/notices", {}],
      ["POST", "/support/notices", { title: "Hacked", body: "Hacked" }],
      ["GET", `/support/notices/${noticeId}`, {}],
      ["POST", `/support/notices/${noticeId}`, { title: "Hacked", body: "Hacked" }],
      ["POST", `/support/notices/${noticeId}/end`, {}],
    ] as const;
  };

  it("answers 403 to a signed-in user of role user on every /support route, and changes nothing", async () => {
    const client = await signedIn(await addUser(t.deps));
    for (const [method, url, fields] of routes()) {
      const response = method === "GET" ? await client.get(url) : await client.post(url, { ...fields });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      if (method === "GET") await client.get("/profile");
    }
    const stored = (await findUserById(t.deps.db, target.id))!;
    expect(stored.otp_email).toBe("target@dealer.example");
    expect(stored.role).toBe("user");
    expect(await queryAudit(t.deps.db, { event: "notice.updated" })).toHaveLength(0);
    expect(await queryAudit(t.deps.db, { event: "email.reset" })).toHaveLength(0);
  });

  /** SPEC "People": administrators are support plus managing roles (and the rollout plan, README "Rollout"). */
  const ADMIN_ONLY = ["POST /support/users/:id/role", "POST /support/rollout/plan", "POST /support/rollout/plan/remove"];

  it("ASVS 4.1.1 / 4.1.3: every /support route (enumerated from Fastify) answers 403 to role user, the administrators' ones 403 to support; nothing stored changes", async () => {
    // By address, not by the route's own access setting: a route opened by mistake is still walked.
    const consoleRoutes = t.app.famosRoutes.filter((r) => (r.method === "GET" || r.method === "POST") && /^\/support(\/|\.|$)/.test(r.url));
    expect(consoleRoutes.length).toBeGreaterThan(routes().length);
    expect(ADMIN_ONLY.filter((a) => !consoleRoutes.some((r) => `${r.method} ${r.url}` === a))).toEqual([]);
    const user = await signedIn(await addUser(t.deps));
    const support = await signedIn(await addUser(t.deps, { role: "support" }));
    const before = await snapshot(t.deps.db);
    const letIn: string[] = [];
    for (const route of consoleRoutes) {
      const url = concreteUrl(route.url.replace(/:id\b/, target.id));
      const adminOnly = ADMIN_ONLY.includes(`${route.method} ${route.url}`);
      for (const [who, client] of adminOnly ? [["user", user] as const, ["support", support] as const] : [["user", user] as const]) {
        const response = route.method === "GET" ? await client.get(url) : await client.post(url);
        if (response.statusCode !== 403) letIn.push(`${who} ${route.method} ${route.url}: ${response.statusCode}`);
        await client.get("/profile");
      }
    }
    expect(letIn).toEqual([]);
    expect(await snapshot(t.deps.db)).toEqual(before);
  });

  it("does not show the Support tab to a user, and shows it to support", async () => {
    const user = await signedIn(await addUser(t.deps));
    expect((await user.get("/profile")).body).not.toContain('href="/support"');
    const support = await signedIn(await addUser(t.deps, { role: "support" }));
    expect((await support.get("/profile")).body).toContain('href="/support"');
  });

  it("sends a signed-out visitor to sign in, and a half-signed-in one back to the code step", async () => {
    for (const [method, url] of routes()) {
      if (method !== "GET") continue;
      const response = await t.app.inject({ method, url });
      expect(response.statusCode, url).toBe(303);
      expect(response.headers.location).toMatch(/^\/login/);
    }
    const support = await addUser(t.deps, { role: "support" });
    const half = new FormClient(t.app);
    await submitPassword(half, support.login_id, support.password);
    const response = await half.get("/support");
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/otp");
  });

  it("answers 403 to support on role changes", async () => {
    const client = await signedIn(await addUser(t.deps, { role: "support" }));
    const response = await client.post(`/support/users/${target.id}/role`, { role: "admin" });
    expect(response.statusCode).toBe(403);
    expect((await findUserById(t.deps.db, target.id))!.role).toBe("user");
  });

  it("answers 403 to support acting on its own account, and to admin changing its own role", async () => {
    const support = await addUser(t.deps, { role: "support", fullName: "Sue Port", partnerNumber: "00001" });
    const client = await signedIn(support);
    const own = { name: "Sue Port", loginId: support.login_id, partnerNumber: "00001", ticket: "INC2" };
    const page = await client.get(`/support/users/${support.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("You cannot reset, unlock or change the role of your own account");
    expect(page.body).not.toContain("Reset OTP email</button>");
    expect((await client.post(`/support/users/${support.id}/reset`, own)).statusCode).toBe(403);
    expect((await client.post(`/support/users/${support.id}/reset/confirm`, own)).statusCode).toBe(403);
    expect((await client.post(`/support/users/${support.id}/unlock`)).statusCode).toBe(403);
    expect((await findUserById(t.deps.db, support.id))!.otp_email).toBe(support.otp_email);

    const admin = await addUser(t.deps, { role: "admin" });
    const adminClient = await signedIn(admin);
    expect((await adminClient.post(`/support/users/${admin.id}/role`, { role: "user" })).statusCode).toBe(403);
    expect((await findUserById(t.deps.db, admin.id))!.role).toBe("admin");
  });

  it("shows support and admin on their own page why each action is missing, once and in its own words, and refuses each with them", async () => {
    const OWN = "You cannot reset, unlock or change the role of your own account: ask a colleague.";
    const OWN_DISABLE = "You cannot disable, enable or erase your own account: ask a colleague.";
    const OWN_PASSWORD = "You cannot set a temporary password for your own account: change your password on the Profile tab.";
    const times = (body: string, text: string) => body.split(text).length - 1;
    for (const role of ["support", "admin"] as const) {
      const self = await addUser(t.deps, { role, fullName: "Sam Self", partnerNumber: "00077" });
      const client = await signedIn(self);
      const own = { name: "Sam Self", loginId: self.login_id, partnerNumber: "00077", ticket: "INC4" };
      const page = await client.get(`/support/users/${self.id}`);
      expect(page.statusCode).toBe(200);
      // The reset's reason at the top names reset, unlock and role; disabling and the temporary password say theirs where they would be.
      for (const text of [OWN, OWN_DISABLE, OWN_PASSWORD]) expect(times(page.body, text), `${role}: ${text}`).toBe(1);
      expect(page.body).not.toContain(`action="/support/users/${self.id}/disable"`);
      expect(page.body).not.toContain(`href="/support/users/${self.id}/temporary-password"`);
      for (const action of ["disable", "enable"]) {
        const refused = await client.post(`/support/users/${self.id}/${action}`);
        expect(refused.statusCode).toBe(403);
        expect(refused.body).toContain(OWN_DISABLE);
      }
      for (const refused of [await client.get(`/support/users/${self.id}/temporary-password`), await client.post(`/support/users/${self.id}/temporary-password`, own), await client.post(`/support/users/${self.id}/temporary-password/confirm`, own)]) {
        expect(refused.statusCode).toBe(403);
        expect(refused.body).toContain(OWN_PASSWORD);
      }
      const after = (await findUserById(t.deps.db, self.id))!;
      expect(after.disabled_at).toBeNull();
      expect(after.password_hash).toBe(self.password_hash);

      // In the reader's language, as every reason on the console.
      expect((await client.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" })).statusCode).toBe(303);
      const german = (await client.get(`/support/users/${self.id}`)).body;
      expect(german).toContain("Sie können Ihr eigenes Konto nicht deaktivieren, aktivieren oder löschen");
      expect(german).toContain("Sie können für Ihr eigenes Konto kein temporäres Passwort festlegen");
      for (const text of [OWN, OWN_DISABLE, OWN_PASSWORD]) expect(german).not.toContain(text);
    }
  });

  it("shows support on an administrator's page why each action is missing, once and in its own words, and refuses each with them", async () => {
    const ADMIN = "Only an administrator can reset or unlock an administrator's account.";
    const ADMIN_DISABLE = "Only an administrator can disable, enable or erase an administrator's account.";
    const ADMIN_PASSWORD = "Only an administrator can set a temporary password for an administrator's account.";
    // As the page writes them: the apostrophe escaped.
    const times = (body: string, text: string) => body.split(text.replaceAll("'", "&#39;")).length - 1;
    const admin = await addUser(t.deps, { role: "admin", fullName: "Ada Admin", partnerNumber: "00078" });
    const fields = { name: "Ada Admin", loginId: admin.login_id, partnerNumber: "00078", ticket: "INC5" };
    const client = await signedIn(await addUser(t.deps, { role: "support" }));
    const page = await client.get(`/support/users/${admin.id}`);
    expect(page.statusCode).toBe(200);
    // (An administrator without passkeys or an app has no "Remove second factors" section, nor its reason.)
    for (const text of [ADMIN, ADMIN_DISABLE, ADMIN_PASSWORD]) expect(times(page.body, text), text).toBe(1);
    expect(page.body).not.toContain(`action="/support/users/${admin.id}/disable"`);
    expect(page.body).not.toContain(`href="/support/users/${admin.id}/temporary-password"`);
    for (const action of ["disable", "enable"]) {
      const refused = await client.post(`/support/users/${admin.id}/${action}`);
      expect(refused.statusCode).toBe(403);
      expect(times(refused.body, ADMIN_DISABLE)).toBe(1);
    }
    for (const refused of [await client.get(`/support/users/${admin.id}/temporary-password`), await client.post(`/support/users/${admin.id}/temporary-password`, fields), await client.post(`/support/users/${admin.id}/temporary-password/confirm`, fields)]) {
      expect(refused.statusCode).toBe(403);
      expect(times(refused.body, ADMIN_PASSWORD)).toBe(1);
    }
    const after = (await findUserById(t.deps.db, admin.id))!;
    expect(after.disabled_at).toBeNull();
    expect(after.password_hash).toBe(admin.password_hash);
    expect((await client.post("/profile/language", { locale: "fr", timeZone: "Europe/Paris" })).statusCode).toBe(303);
    const french = (await client.get(`/support/users/${admin.id}`)).body;
    expect(french).toContain("Seul un administrateur peut désactiver, activer ou effacer le compte d’un administrateur.");
    expect(french).toContain("Seul un administrateur peut définir un mot de passe temporaire pour le compte d’un administrateur.");
  });

  it("answers 403 to support resetting or unlocking an administrator; admin may", async () => {
    const admin = await addUser(t.deps, { role: "admin", fullName: "Ad Min", partnerNumber: "7" });
    const fields = { name: "Ad Min", loginId: admin.login_id, partnerNumber: "7", ticket: "INC3" };
    const support = await signedIn(await addUser(t.deps, { role: "support" }));
    expect((await support.post(`/support/users/${admin.id}/reset`, fields)).statusCode).toBe(403);
    expect((await support.post(`/support/users/${admin.id}/reset/confirm`, fields)).statusCode).toBe(403);
    expect((await support.post(`/support/users/${admin.id}/unlock`)).statusCode).toBe(403);
    expect((await findUserById(t.deps.db, admin.id))!.otp_email).toBe(admin.otp_email);

    const otherAdmin = await signedIn(await addUser(t.deps, { role: "admin" }));
    expect((await otherAdmin.post(`/support/users/${admin.id}/unlock`)).statusCode).toBe(303);
  });

  it("takes the account from the URL only: a forged id in the form is refused, an unknown id is 404", async () => {
    const support = await addUser(t.deps, { role: "support", fullName: "For Ger", partnerNumber: "9" });
    const client = await signedIn(support);
    // Trying to reach the own account through a form field: refused before anything runs.
    const forged = await client.post(`/support/users/${target.id}/unlock`, { userId: support.id });
    expect(forged.statusCode).toBe(400);
    const forgedReset = await client.post(`/support/users/${target.id}/reset/confirm`, {
      name: "Tara Get", loginId: "target.user", partnerNumber: "00042", ticket: "INC4", userId: support.id,
    });
    expect(forgedReset.statusCode).toBe(400);
    expect((await client.post("/support/users/no-such-id/unlock")).statusCode).toBe(404);
    expect((await client.post(`/support/users/${"x".repeat(300)}/unlock`)).statusCode).toBe(414);
    // The target's fields typed against another account's URL do not match that account.
    const bystander = await addUser(t.deps, { email: "bystander@dealer.example" });
    const mismatch = await client.post(`/support/users/${bystander.id}/reset/confirm`, {
      name: "Tara Get", loginId: "target.user", partnerNumber: "00042", ticket: "INC5",
    });
    expect(mismatch.statusCode).toBe(400);
    expect((await findUserById(t.deps.db, bystander.id))!.otp_email).toBe("bystander@dealer.example");
    expect((await findUserById(t.deps.db, target.id))!.otp_email).toBe("target@dealer.example");
    expect(await queryAudit(t.deps.db, { event: "unlock", subject: support.login_id })).toHaveLength(0);
  });
});
