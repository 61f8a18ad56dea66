import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, logIn } from "../support/browser.ts";
import { extractCode } from "../support/smtp.ts";
import { seedRolloutNetwork } from "./seed.ts";

/** Screenshots land here (gitignored); the copy for the docs is docs/rollout-page.png. */
export const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));

describe("the Rollout page in Chromium", () => {
  const f = useBrowserApp({ env: { FAMOS_2FA_GRACE_SIGNINS: "3" } });
  beforeAll(() => seedRolloutNetwork(f.t.deps));



  it("is reached by the console link Rollout, reads without colour, passes axe, and is kept as a screenshot", async () => {
    const admin = await addUser(f.t.deps, { role: "admin", loginId: "retail.admin", partnerNumber: "9000", email: "retail.admin@famos.test" });
    const page = await f.newPage({ viewport: { width: 1280, height: 900 } });
    const before = f.t.smtp.messages.length;
    await logIn(page, f.base, admin);
    await expect.poll(() => heading(page)).toBe("OTP capture");
    const mail = await f.t.smtp.waitForMessage((m) => m.envelopeTo.includes(admin.otp_email!) && f.t.smtp.messages.indexOf(m) >= before);
    await page.getByLabel("Please enter the received code").fill(extractCode(mail.text));
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByRole("link", { name: "Support" }).click();
    await page.getByRole("navigation", { name: "Support console" }).getByRole("link", { name: "Rollout" }).click();
    await expect.poll(() => heading(page)).toBe("Rollout");

    // Each chart has a name a screen reader announces, and a table beside it.
    await expect.poll(() => page.getByRole("img", { name: "Enrolment by partner" }).count()).toBe(1);
    await expect.poll(() => page.getByRole("img", { name: "Enrolments per day" }).count()).toBe(1);
    expect(await page.getByRole("table", { name: "Figures by partner" }).count()).toBe(1);
    // Drawn lengths in the browser equal the shares (partner 1001: 6 of 10 enrolled → 216 of 360).
    const width = await page.locator('rect[data-partner="1001"][data-segment="enrolled"]').evaluate((r) => (r as SVGRectElement).width.baseVal.value);
    expect(width).toBe(216);
    await expectAccessible(page);

    // The administrator moves partner 1003's start through the form.
    await page.getByLabel("Partner number (empty: the default start)").fill("1003");
    await page.getByLabel("Starts (UK time)").fill("2027-01-11T07:00");
    await page.getByRole("button", { name: "Save start" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("The start was saved");
    const plan = page.getByRole("table", { name: /Start of two-factor sign-in/ });
    expect(await plan.getByRole("row", { name: /Partner 1003 11\/01\/2027 07:00/ }).count()).toBe(1);
    await expectAccessible(page);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}rollout-page.png`, fullPage: true });
  });

  it("shows a user before their wave the banner and takes them to User profile by its link", async () => {
    const user = await addUser(f.t.deps, { email: null, partnerNumber: "1003", loginId: "early.bird" });
    const page = await f.newPage();
    await logIn(page, f.base, user);
    await expect.poll(() => page.getByRole("complementary", { name: "Two-factor sign-in" }).textContent()).toBe(
      // The first test moved partner 1003's start to 11/01/2027.
      "Two-factor sign-in starts for you on 11/01/2027: set your OTP email now",
    );
    await expectAccessible(page);
    await page.getByRole("link", { name: "set your OTP email now" }).click();
    await expect.poll(() => heading(page)).toBe("User profile");
    await expectAccessible(page);
  });
});
