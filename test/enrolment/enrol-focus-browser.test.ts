import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { autofocusSettled, cursorState, expectAccessible, heading, logIn, pressToNavigate } from "../support/browser.ts";

/**
 * "User profile" at first sign-in, by keyboard on a phone (375 × 667): the cursor starts in "Email
 * address", as it starts in "Login ID" and in the code field, and a refused address puts it back there,
 * marked invalid and described by the reason (WCAG 3.3.1), as Profile's own address form does.
 */
describe("User profile (enrolment) keeps the cursor where the typing is, in a browser", () => {
  const f = useBrowserApp();

  it("starts in Email address, returns there after a refusal with the reason read with it, and goes on by keyboard", async () => {
    const user = await addUser(f.t.deps, { email: null });
    const page = await f.newPage({ viewport: { width: 375, height: 667 } });
    await logIn(page, f.base, user);
    await expect.poll(() => heading(page)).toBe("User profile");
    await autofocusSettled(page);
    expect(await cursorState(page)).toEqual({ field: "email", invalid: null, describedBy: [] });

    await page.keyboard.type("pat.keys@dealer.example");
    await page.keyboard.press("Tab");
    await page.keyboard.type("pat.keys@dealer.exampel");
    await pressToNavigate(page);
    const mismatch = "The two email addresses do not match. Type the same address in both fields.";
    await expect.poll(() => page.getByRole("alert").textContent()).toBe(mismatch);
    await autofocusSettled(page);
    expect(await cursorState(page)).toEqual({ field: "email", invalid: "true", describedBy: [mismatch] });
    await expectAccessible(page);

    await page.keyboard.press("Tab");
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.type("pat.keys@dealer.example");
    await pressToNavigate(page);
    await expect.poll(() => heading(page)).toBe("OTP capture");
  });
});
