import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { expectAccessible, launchBrowser } from "../support/browser.ts";
import { FormClient, submitPassword } from "../support/client.ts";

/** Issue 10 in a real Chromium: the owner's usual browser keeps working while a stranger pauses her login ID. */
describe("device cookies in a browser", () => {
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

  async function logIn(context: BrowserContext, loginId: string, password: string) {
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel("Login ID").fill(loginId);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForLoadState();
    return page;
  }

  it("a stranger's 12 wrong passwords pause alice on new browsers, told in words; her own browser still reaches OTP capture", async () => {
    const alice = await addUser(t.deps);
    const usual = await browser.newContext();
    const page = await logIn(usual, alice.login_id, alice.password);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("OTP capture");
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(alice.otp_email!));
    await page.getByLabel("Please enter the received code").fill(/\b(\d{6})\b/.exec(mail.text)![1]!);
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    const device = (await usual.cookies()).find((c) => c.name === "famos_device")!;
    expect(device).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(device.expires * 1000).toBeGreaterThan(Date.now() + 300 * 24 * 3_600_000);
    await page.getByRole("button", { name: "Sign out" }).click();

    const stranger = new FormClient(t.app, "203.0.113.77");
    for (let i = 0; i < 12; i += 1) await submitPassword(stranger, alice.login_id, `guess ${i}`);

    const elsewhere = await browser.newContext();
    const refused = await logIn(elsewhere, alice.login_id, alice.password);
    await expect.poll(() => refused.textContent("main")).toContain("Sign-in with this login ID is paused on new browsers until");
    await expectAccessible(refused);
    await elsewhere.close();

    const again = await logIn(usual, alice.login_id, alice.password);
    await expect.poll(() => again.getByRole("heading", { level: 1 }).textContent()).toBe("OTP capture");
    await usual.close();
  });
});
