import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

/** SPEC item 7, "Entered a wrong email?", and the guide's request to the retail IT team. */
describe("the Entered a wrong email? page", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_SUPPORT_EMAIL: "retailit@dealer-group.example" } });
  });
  afterAll(async () => t.close());

  function mailtoLinks(body: string): URL[] {
    return [...body.matchAll(/href="(mailto:[^"]+)"/g)].map((m) => new URL(m[1]!.replace(/&amp;/g, "&")));
  }

  it("is linked from sign in, User profile and OTP capture", async () => {
    const client = new FormClient(t.app);
    expect((await client.get("/login")).body).toContain('<a href="/wrong-email">Entered a wrong email?</a>');
    const enrolling = await addUser(t.deps, { email: null });
    await submitPassword(client, enrolling.login_id, enrolling.password);
    expect((await client.get("/enrol")).body).toContain('<a href="/wrong-email">Entered a wrong email?</a>');
    const other = new FormClient(t.app);
    const user = await addUser(t.deps);
    await submitPassword(other, user.login_id, user.password);
    expect((await other.get("/otp")).body).toContain('<a href="/wrong-email">Entered a wrong email?</a>');
  });

  it("explains the reset and offers a prepared mailto: link to FAMOS_SUPPORT_EMAIL", async () => {
    const page = await t.app.inject({ method: "GET", url: "/wrong-email" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("<h1>Entered a wrong email?</h1>");
    expect(page.body).toContain("retail IT team can reset it");
    expect(page.body).toContain("asks you for\nyour email address again");
    const links = mailtoLinks(page.body);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(link.protocol).toBe("mailto:");
      expect(link.pathname).toBe("retailit@dealer-group.example");
      expect(link.searchParams.get("subject")).toBe("OTP email reset");
      // RFC 6068 §5: CRLF line breaks in the body.
      expect(link.search).toContain("%0D%0A");
      expect(link.searchParams.get("body")!.split("\r\n").map((line) => line.trim())).toEqual(["Name:", "FAMOS Log in ID:", "Partner number:", ""]);
    }
  });

  it.each(LOCALES)("in %s the request's subject starts with SPEC's words, so one support team can file every language's requests together", async (locale) => {
    const wrongEmail = await t.app.inject({ method: "GET", url: "/wrong-email", headers: { "accept-language": locale } });
    const forgot = await t.app.inject({ method: "GET", url: "/forgot-password", headers: { "accept-language": locale } });
    expect(wrongEmail.body).toContain(`lang="${locale}"`);
    for (const link of mailtoLinks(wrongEmail.body)) expect(link.searchParams.get("subject")).toMatch(/^OTP email reset( \(.+\))?$/);
    const forgotLinks = mailtoLinks(forgot.body);
    expect(forgotLinks.length).toBeGreaterThan(0);
    for (const link of forgotLinks) expect(link.searchParams.get("subject")).toMatch(/^Password reset( \(.+\))?$/);
  });
});
