import type { Page } from "playwright-core";
import { extractCode } from "./smtp.ts";
import type { TestSmtpServer } from "./smtp.ts";

/** The page's one h1, for polling which screen a browser is on. */
export const heading = (page: Page) => page.getByRole("heading", { level: 1 }).textContent();

/** "Log in" by its labels. */
export async function logIn(page: Page, base: string, loginId: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel("Login ID").fill(loginId);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** The code of the first passcode mail to `email` among the messages from index `before` on. */
export async function mailedCode(smtp: TestSmtpServer, email: string, before: number): Promise<string> {
  const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes(email) && smtp.messages.indexOf(m) >= before && /passcode/.test(m.subject));
  return extractCode(mail.text);
}
