import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LightMyRequestResponse } from "fastify";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { createProtectedApp } from "../../examples/protected-app/app.ts";
import type { TestApp } from "../support/app.ts";
import type { TestSmtpServer } from "../support/smtp.ts";
import { FormClient, nextCode } from "../support/client.ts";

/** The example application listening on a free loopback port. */
export async function startExampleApp(): Promise<{ server: Server; url: string; port: number; stop(): Promise<void> }> {
  const server = createProtectedApp();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nobody listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

/** The hidden returnTo of a sign-in page, unescaped, or null. */
export function hiddenReturnTo(body: string): string | null {
  const match = /name="returnTo" value="([^"]*)"/.exec(body);
  return match ? match[1]!.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!) : null;
}

/**
 * Signs in from a sign-in page address (e.g. "/login?returnTo=%2Fquotation") as a browser would:
 * the page's hidden returnTo goes with the password, then the mailed code. Returns the code step's
 * answer (303 to where the user goes next).
 */
export async function signInFrom(
  t: TestApp,
  client: FormClient,
  loginPath: string,
  user: { login_id: string; password: string; otp_email: string | null },
): Promise<LightMyRequestResponse> {
  const before = t.smtp.messages.length;
  const login = await client.get(loginPath);
  const returnTo = hiddenReturnTo(login.body);
  const password = await client.post("/login", { loginId: user.login_id, password: user.password, ...(returnTo ? { returnTo } : {}) });
  if (password.statusCode !== 303 || password.headers.location !== "/otp") throw new Error(`password step: ${password.statusCode}`);
  const code = await nextCode(t.smtp, user.otp_email!, before);
  await client.get("/otp");
  return client.post("/otp", { code });
}

/** In a browser on FAMOS's sign-in page: the password, then the mailed code, as a user would. */
export async function signInInBrowser(smtp: TestSmtpServer, page: Page, user: { login_id: string; password: string; otp_email: string | null }): Promise<void> {
  const before = smtp.messages.length;
  await page.getByLabel("Login ID").fill(user.login_id);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("OTP capture");
  await page.getByLabel("Please enter the received code").fill(await nextCode(smtp, user.otp_email!, before));
  await page.getByRole("button", { name: "Confirm" }).click();
}

/** In a browser on the example application's Quotation page: its own form, sent and echoed back. */
export async function saveQuotationInBrowser(page: Page, quote: { customer: string; vehicle: string; amount: string }): Promise<void> {
  await page.getByLabel("Customer name").fill(quote.customer);
  await page.getByLabel("Vehicle").fill(quote.vehicle);
  await page.getByLabel("Amount to finance (£)").fill(quote.amount);
  await page.getByRole("button", { name: "Save quotation" }).click();
  await expect.poll(() => page.getByRole("status").textContent()).toBe(`Quotation for ${quote.customer}: ${quote.vehicle}, £${quote.amount} over 48 months.`);
}
