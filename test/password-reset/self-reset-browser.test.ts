import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, mailedCode } from "../support/browser.ts";

/** Issue 11, item 2, in Chromium with the code from a real SMTP server: "Forgot password?" to a new password and a normal sign-in. */
describe("self-service password reset in a browser", () => {
  const f = useBrowserApp({ env: { FAMOS_PASSWORD_RESET: "self" } });

  it("resets the password with the mailed code, then signs in with the new one and a fresh code", async () => {
    await addUser(f.t.deps, { loginId: "rita.reset", email: "rita@dealer.example" });
    const page = await f.newPage();
    await page.goto(`${f.base}/login`);
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await expect.poll(() => heading(page)).toBe("Forgot password?");
    await expectAccessible(page);
    let before = f.t.smtp.messages.length;
    await page.getByLabel("Login ID").fill("rita.reset");
    await page.getByRole("button", { name: "Send code" }).click();
    await expect.poll(() => heading(page)).toBe("Reset your password");
    await expectAccessible(page);
    await page.getByLabel("Please enter the received code").fill(await mailedCode(f.t.smtp, "rita@dealer.example", before));
    await page.getByLabel("New password", { exact: true }).fill("rita chose this one");
    await page.getByLabel("Confirm new password").fill("rita chose this one");
    await page.getByRole("button", { name: "Reset password" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Your password was reset");

    before = f.t.smtp.messages.length;
    await page.getByLabel("Login ID").fill("rita.reset");
    await page.getByLabel("Password").fill("rita chose this one");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => heading(page)).toBe("OTP capture");
    await page.getByLabel("Please enter the received code").fill(await mailedCode(f.t.smtp, "rita@dealer.example", before));
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
  });
});
