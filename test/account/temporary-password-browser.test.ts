import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, logIn, mailedCode } from "../support/browser.ts";

/**
 * Issue 11 in a real Chromium, by the labels SPEC quotes: support sets a temporary password in the
 * console → the user signs in with it and the code → "Choose a new password" → the portal; the
 * temporary password then fails, and an expired one fails too. axe checks every new page.
 */
describe("a forgotten password, handled by support, in a browser", { timeout: 120_000 }, () => {
  const f = useBrowserApp();

  async function enterCode(page: Page, email: string, before: number) {
    await expect.poll(() => heading(page)).toBe("OTP capture");
    await page.getByLabel("Please enter the received code").fill(await mailedCode(f.t.smtp, email, before));
    await page.getByRole("button", { name: "Confirm" }).click();
  }

  it("support sets it, the user signs in with it and the code, chooses a new one and reaches the portal", async () => {
    const staff = await addUser(f.t.deps, { loginId: "fay.forgot", fullName: "Fay Forgot", partnerNumber: "0815", email: "fay@dealer.example" });
    const support = await addUser(f.t.deps, { role: "support", loginId: "it.desk", email: "it.desk@famos.test" });

    const desk = await f.newPage();
    let before = f.t.smtp.messages.length;
    await logIn(desk, f.base, support);
    await enterCode(desk, support.otp_email!, before);
    await desk.goto(`${f.base}/support/users/${staff.id}`);
    await expect.poll(() => heading(desk)).toBe("User fay.forgot");
    await desk.getByRole("link", { name: "Set a temporary password" }).click();
    await expect.poll(() => heading(desk)).toBe("Set a temporary password for fay.forgot");
    await expectAccessible(desk);
    await desk.getByLabel("Name").fill("fay forgot");
    await desk.getByLabel("Login ID").fill("Fay.Forgot");
    await desk.getByLabel("Partner number").fill("0815");
    await desk.getByLabel("Ticket reference").fill("RITM0099");
    await desk.getByRole("button", { name: "Set a temporary password" }).click();
    await expect.poll(() => heading(desk)).toBe("Set a temporary password for fay.forgot?");
    await expectAccessible(desk);
    await desk.getByRole("button", { name: "Confirm temporary password" }).click();
    await expect.poll(() => heading(desk)).toBe("Temporary password for fay.forgot");
    await expectAccessible(desk);
    const temporary = (await desk.locator("strong.secret").textContent())!.trim();
    expect(temporary).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);

    const user = await f.newPage();
    before = f.t.smtp.messages.length;
    await logIn(user, f.base, { login_id: "fay.forgot", password: temporary });
    await enterCode(user, "fay@dealer.example", before);
    await expect.poll(() => heading(user)).toBe("Choose a new password");
    await expectAccessible(user);
    // Nothing else opens before a new password is chosen.
    await user.goto(`${f.base}/profile`);
    await expect.poll(() => heading(user)).toBe("Choose a new password");
    await user.getByLabel("New password", { exact: true }).fill("my own long secret");
    await user.getByLabel("Confirm new password").fill("my own long secret!");
    await user.getByRole("button", { name: "Save password" }).click();
    await expect.poll(() => user.getByRole("alert").textContent()).toContain("do not match");
    await expectAccessible(user);
    await user.getByLabel("New password", { exact: true }).fill("my own long secret");
    await user.getByLabel("Confirm new password").fill("my own long secret");
    await user.getByRole("button", { name: "Save password" }).click();
    await expect.poll(() => user.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    await expect.poll(() => user.getByRole("navigation", { name: "FAMOS sections" }).getByRole("link", { name: "Quotation" }).count()).toBe(1);

    // The temporary password has done its work.
    const again = await f.newPage();
    await logIn(again, f.base, { login_id: "fay.forgot", password: temporary });
    await expect.poll(() => again.getByRole("alert").textContent()).toContain("The login ID or password is not right");
  });

  it("an expired temporary password fails like a wrong one", async () => {
    const staff = await addUser(f.t.deps, { loginId: "late.larry", email: "larry@dealer.example" });
    const { setTemporaryPassword } = await import("../../src/account/temporary-password.ts");
    await setTemporaryPassword(f.t.deps, { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "t" } }, staff.id, "wait-too-long-1234");
    f.t.clock.advance(72 * 3_600_000 + 1);
    const page = await f.newPage();
    await logIn(page, f.base, { login_id: "late.larry", password: "wait-too-long-1234" });
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("The login ID or password is not right");
  });
});
