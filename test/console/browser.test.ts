import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, signInInBrowser } from "../support/browser.ts";
import { FormClient, signInFully, type SignInUser } from "../support/client.ts";
import { extractCode } from "../support/smtp.ts";

/**
 * The guide's "OTP email reset" handled end to end in a real Chromium against a listening server,
 * by the labels SPEC item 8 quotes, with axe on every console page (the step-up's too); and the Profile tab's email change.
 */
describe("support console and Profile in a browser", { timeout: 120_000 }, () => {
  const f = useBrowserApp();


  async function signIn(page: Page, user: SignInUser) {
    await signInInBrowser(page, f.t.mailbox, user, `${f.base}/login`);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
  }

  it("finds a user, resets the OTP email, reads the audit trail, and posts a notice that the portal shows", async () => {
    const staff = await addUser(f.t.deps, { loginId: "mike.lost", fullName: "Mike  Lost", partnerNumber: "004711", email: "mike@dealer.example" });
    const staffSession = new FormClient(f.t.app);
    await signInFully(staffSession, f.t.smtp, staff);
    const support = await addUser(f.t.deps, { role: "support", loginId: "retail.it", email: "retail.it@famos.test" });
    const page = await f.newPage();
    await signIn(page, support);

    await page.getByRole("navigation", { name: "FAMOS sections" }).getByRole("link", { name: "Support" }).click();
    await expect.poll(() => heading(page)).toBe("Support console");
    await expectAccessible(page);
    await page.getByLabel("Search").fill("lost");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => page.textContent("main")).toContain("1 user matches");
    await expectAccessible(page);
    await page.getByRole("link", { name: "mike.lost" }).click();
    await expect.poll(() => heading(page)).toBe("User mike.lost");
    expect(await page.textContent("main")).toContain("Confirmed: m•••@dealer.example");
    await expectAccessible(page);

    // The request as the user wrote it, with a typo in the partner number first.
    await page.getByLabel("Name").fill("mike lost");
    await page.getByLabel("Login ID").fill("Mike.Lost");
    await page.getByLabel("Partner number").fill("4711");
    await page.getByLabel("Ticket reference").fill("RITM0012345");
    await page.getByRole("button", { name: "Reset OTP email" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("The partner number does not match the account");
    await expectAccessible(page);
    await page.getByLabel("Partner number").fill("004711");
    await page.getByRole("button", { name: "Reset OTP email" }).click();
    await expect.poll(() => heading(page)).toBe("Reset the OTP email of mike.lost?");
    await expectAccessible(page);
    await page.getByRole("button", { name: "Confirm reset" }).click();
    await expect.poll(() => page.textContent("main")).toContain("The OTP email was reset");
    expect(await page.textContent("main")).toContain("None: the user enters an address at the next sign-in");
    expect((await findUserById(f.t.deps.db, staff.id))!.otp_email).toBeNull();
    expect((await staffSession.get("/profile")).statusCode).toBe(303);
    await f.t.smtp.waitForMessage((m) => m.envelopeTo.includes("mike@dealer.example") && /reset/.test(m.subject));

    await page.getByRole("link", { name: "The full audit trail of mike.lost" }).click();
    await expect.poll(() => heading(page)).toBe("Audit trail");
    await expect.poll(() => page.textContent("main")).toContain("ticket: RITM0012345");
    await expectAccessible(page);
    await page.getByLabel("Event", { exact: true }).selectOption("email.reset");
    await page.getByRole("button", { name: "Show events" }).click();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    expect(await page.locator("tbody tr").textContent()).toContain("retail.it");

    await page.getByRole("navigation", { name: "Support console" }).getByRole("link", { name: "Notices" }).click();
    await expect.poll(() => heading(page)).toBe("Notices");
    await expectAccessible(page);
    await page.getByLabel("Title").fill("Application Issue");
    await page.getByLabel("Text").fill("Quotations may be slow this afternoon.");
    await page.getByRole("button", { name: "Post notice" }).click();
    await expect.poll(() => heading(page)).toBe("Notice: Application Issue");
    await expectAccessible(page);

    await page.goto(`${f.base}/`);
    const banner = page.getByRole("complementary", { name: "Notices" });
    await expect.poll(() => banner.textContent()).toContain("Application Issue <28/11/2026 14:00> Please click for more info");
    await expectAccessible(page);
    await banner.getByRole("link").click();
    await expect.poll(() => page.textContent("main")).toContain("Quotations may be slow this afternoon.");
    await page.close();
  });

  it("past the hour after the code, a reset asks for the password on a page of its own that passes axe, wrong then right", async () => {
    const staff = await addUser(f.t.deps, { loginId: "nina.stale", fullName: "Nina Stale", partnerNumber: "004712", email: "nina@dealer.example" });
    const support = await addUser(f.t.deps, { role: "support", loginId: "retail.late", email: "retail.late@famos.test" });
    const page = await f.newPage();
    await signIn(page, support);
    await page.goto(`${f.base}/support/users/${staff.id}`);
    for (const minutes of [25, 25, 11]) {
      f.t.clock.advance(minutes * 60_000);
      await page.reload();
    }
    await expect.poll(() => heading(page)).toBe("User nina.stale");
    await page.getByLabel("Name").fill("Nina Stale");
    await page.getByLabel("Login ID").fill("nina.stale");
    await page.getByLabel("Partner number").fill("004712");
    await page.getByLabel("Ticket reference").fill("RITM0054321");
    await page.getByRole("button", { name: "Reset OTP email" }).click();
    await page.getByRole("button", { name: "Confirm reset" }).click();
    await expect.poll(() => heading(page)).toBe("Confirm it is you");
    await expectAccessible(page);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Confirm and continue" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("The password is not right.");
    await expectAccessible(page);
    await page.getByLabel("Password").fill(support.password);
    await page.getByRole("button", { name: "Confirm and continue" }).click();
    await expect.poll(() => page.textContent("main")).toContain("The OTP email was reset");
    expect((await findUserById(f.t.deps.db, staff.id))!.otp_email).toBeNull();
    await page.close();
  });

  it("changes the OTP email on Profile, with the code sent to the new address", async () => {
    const user = await addUser(f.t.deps, { loginId: "sam.move", email: "sam.old@dealer.example" });
    const page = await f.newPage();
    await signIn(page, user);
    await page.getByRole("navigation", { name: "FAMOS sections" }).getByRole("link", { name: "Profile" }).click();
    await expect.poll(() => heading(page)).toBe("Profile");
    await expectAccessible(page);
    const before = f.t.smtp.messages.length;
    await page.getByLabel("New email address", { exact: true }).fill("sam.new@dealer.example");
    await page.getByLabel("Confirm new email address").fill("sam.new@dealer.example");
    await page.getByRole("button", { name: "Send code" }).click();
    await expect.poll(() => heading(page)).toBe("Confirm your new OTP email");
    await expectAccessible(page);
    const mail = await f.t.smtp.waitForMessage((m) => m.envelopeTo.includes("sam.new@dealer.example") && f.t.smtp.messages.indexOf(m) >= before);
    await page.getByLabel("Please enter the received code").fill(extractCode(mail.text));
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.textContent("main")).toContain("Your OTP email has been changed");
    expect(await page.textContent("main")).toContain("sam.new@dealer.example");
    await expectAccessible(page);

    // Past the 15 minutes, the form asks for the password; the page with that field passes axe too.
    f.t.clock.advance(16 * 60_000);
    await page.reload();
    await expect.poll(() => page.locator("#emailPassword").count()).toBe(1);
    await expectAccessible(page);
    await page.close();
  });

  it("keeps disabled an account an import --sync disabled: the user's page with the button, and after it, pass axe", async () => {
    const leaver = await addUser(f.t.deps, { loginId: "olga.left", fullName: "Olga Left", partnerNumber: "004713" });
    // As `famos user import --sync` leaves it (keep-disabled.test runs the real import).
    await f.t.deps.db.updateTable("users").set({ disabled_at: f.t.clock.now(), sync_disabled_partner: "004713" }).where("id", "=", leaver.id).execute();
    const support = await addUser(f.t.deps, { role: "support", loginId: "retail.keep", email: "retail.keep@famos.test" });
    const page = await f.newPage();
    await signIn(page, support);
    await page.goto(`${f.base}/support/users/${leaver.id}`);
    await expect.poll(() => heading(page)).toBe("User olga.left");
    expect(await page.textContent("main")).toContain("by partner 004713’s import --sync");
    await expectAccessible(page);
    await page.getByRole("button", { name: "Keep disabled" }).click();
    await expect.poll(() => page.textContent("main")).toContain("The account is kept disabled: no import enables it again.");
    expect(await page.getByRole("button", { name: "Keep disabled" }).count()).toBe(0);
    await expectAccessible(page);
    expect((await findUserById(f.t.deps.db, leaver.id))!.sync_disabled_partner).toBeNull();
    await page.close();
  });
});
