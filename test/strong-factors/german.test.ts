import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signIn, submitPassword } from "../support/client.ts";
import { appCode, nextStep, recoveryCodesFrom, secretFrom } from "./helpers.ts";

const GERMAN = { "accept-language": "de-DE,de;q=0.9" };

describe("issue 13's screens in the reader's language (issue 16)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_STRONG_FACTOR_ROLES: "support,admin" } });
  });
  afterAll(async () => t.close());

  it("a German reader (Accept-Language: de-DE) gets the setup screen, app setup, recovery codes and OTP capture's other ways in German", async () => {
    const user = await addUser(t.deps, { role: "support" });
    const { client, answer } = await signIn(t, { user, client: new FormClient(t.app, "10.30.0.1", GERMAN), page: null });
    expect(answer.headers.location).toBe("/factor-setup");

    const setup = await client.get("/factor-setup");
    expect(setup.body).toContain("<h1>Stärkere Anmeldung einrichten</h1>");
    expect(setup.body).toMatch(/<form method="post" action="\/factor-setup\/app">[\s\S]*?>Authenticator-App einrichten<\/button>/);
    expect(setup.body).not.toContain("Set up a stronger sign-in");
    expect(setup.body).not.toContain("Set up authenticator app");

    expect((await client.post("/factor-setup/app")).headers.location).toBe("/factor-setup/app");
    const appPage = await client.get("/factor-setup/app");
    expect(appPage.body).toContain("Schlüssel: <code class=\"secret\">");
    expect(appPage.body).toContain('<label for="setupCode">Code aus der App</label>');
    const secret = secretFrom(appPage.body);
    const wrong = await client.post("/factor-setup/app/confirm", { code: "12345" });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain("Geben Sie den 6-stelligen Code ein, den Ihre Authenticator-App gerade anzeigt.");
    const done = await client.post("/factor-setup/app/confirm", { code: await appCode(secret, t.clock.now()) });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain("<h1>Speichern Sie Ihre Wiederherstellungscodes</h1>");
    expect(done.body).toContain("Ihre Authenticator-App ist eingerichtet.");
    expect(done.body).toContain("<strong>Sie werden nur jetzt angezeigt</strong>");
    expect(recoveryCodesFrom(done.body)).toHaveLength(10);

    nextStep(t);
    const next = new FormClient(t.app, "10.30.0.2", GERMAN);
    expect((await submitPassword(next, user.login_id, user.password)).headers.location).toBe("/otp");
    const otp = await next.get("/otp");
    expect(otp.body).toContain('<nav aria-label="Andere Wege zur Anmeldung"');
    expect(otp.body).toContain('<a href="/otp/app">Authenticator-App verwenden</a>');
    expect(otp.body).toContain('<a href="/otp/recovery">Wiederherstellungscode verwenden</a>');
    expect(otp.body).not.toContain("Use authenticator app");
    const refused = await next.post("/otp", { code: "123456" });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain("Der per E-Mail gesendete Code reicht nicht aus.");
    const app = await next.get("/otp/app");
    expect(app.body).toContain("<h1>Authenticator-App verwenden</h1>");
  });
});
