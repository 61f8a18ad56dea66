import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { expectAccessible, launchBrowser } from "../support/browser.ts";
import { extractCode } from "../support/smtp.ts";

/** The guide's walk in a real Chromium, by the labels SPEC quotes, with axe on every screen. */
describe("sign-in in a browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp();
    base = await listen(t);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("walks sign in → User profile → OTP capture → portal → Sign out", async () => {
    const user = await addUser(t.deps, { email: null, loginId: "j.smith" });
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await expectAccessible(page);
    await page.getByLabel("Login ID").fill(user.login_id);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Log in" }).click();

    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("User profile");
    await expectAccessible(page);
    await page.getByLabel("Email address", { exact: true }).fill("jane.smith@dealer.example");
    await page.getByLabel("Confirm email address").fill("jane.smith@dealer.example");
    await page.getByRole("button", { name: "Update" }).click();

    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("OTP capture");
    await expectAccessible(page);
    const field = page.getByLabel("Please enter the received code");
    expect(await field.getAttribute("autocomplete")).toBe("one-time-code");
    expect(await field.getAttribute("inputmode")).toBe("numeric");
    for (const name of ["Confirm", "Cancel", "Regenerate OTP"]) await expect.poll(() => page.getByRole("button", { name }).count()).toBe(1);

    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("jane.smith@dealer.example"));
    await field.fill(extractCode(mail.text));
    await page.getByRole("button", { name: "Confirm" }).click();

    const tabs = page.getByRole("navigation", { name: "FAMOS sections" });
    await expect.poll(() => tabs.getByRole("link", { name: "Profile" }).count()).toBe(1);
    await expectAccessible(page);
    for (const tab of ["Quotation", "Vehicle", "Customer", "Customer Assistant", "External Links"]) {
      expect(await tabs.getByRole("link", { name: tab, exact: true }).count()).toBe(1);
    }
    expect(await page.textContent("footer")).toContain("FAMOS Version 9.0 - POS 12.20.05");
    await tabs.getByRole("link", { name: "Profile" }).click();
    await expect.poll(() => page.textContent("main")).toContain("jane.smith@dealer.example");
    await expectAccessible(page);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Log in" }).count()).toBe(1);
    await page.goto(`${base}/profile`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.close();
  });

  it("shows wrong codes, Regenerate OTP and Cancel in words", async () => {
    const user = await addUser(t.deps, { email: "anne.other@dealer.example" });
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel("Login ID").fill(user.login_id);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("OTP capture");

    await page.getByLabel("Please enter the received code").fill("000000");
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/not right.*4 tries left/);
    await expectAccessible(page);

    await page.getByRole("button", { name: "Regenerate OTP" }).click();
    await expect.poll(() => page.textContent("main")).toMatch(/You can ask for another code at \d\d:\d\d:\d\d/);

    await page.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Log in" }).count()).toBe(1);
    await page.close();
  });

  it("has an accessible \"Entered a wrong email?\" page", async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.getByRole("link", { name: "Entered a wrong email?" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Entered a wrong email?");
    await expectAccessible(page);
    await page.close();
  });
});
