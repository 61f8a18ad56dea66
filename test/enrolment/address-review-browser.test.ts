import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, logIn } from "../support/browser.ts";
import { extractCode } from "../support/smtp.ts";

/** Issue 15 at enrolment, in Chromium: "Did you mean …?" and addresses another login ID confirmed. */
describe("reviewing the address at enrolment, in a browser", () => {
  const fixture = useBrowserApp();
  let t: TestApp;
  let base: string;
  let refusing: TestApp;
  let refusingBase: string;

  beforeAll(async () => {
    ({ t, base } = fixture);
    refusing = await createTestApp({ env: { FAMOS_SHARED_MAILBOX_POLICY: "refuse" } });
    refusingBase = await listen(refusing);
  });
  afterAll(async () => refusing?.close());

  async function atUserProfile(app: TestApp, url: string, partnerNumber = "01234"): Promise<Page> {
    const user = await addUser(app.deps, { email: null, partnerNumber });
    const page = await fixture.newPage();
    await logIn(page, url, user);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("User profile");
    return page;
  }
  async function enter(page: Page, email: string) {
    await page.getByLabel("Email address", { exact: true }).fill(email);
    await page.getByLabel("Confirm email address").fill(email);
    await page.getByRole("button", { name: "Update" }).click();
  }
  /** On OTP capture: the code mailed to `email`, Confirm, and the portal opens. */
  async function confirmCodeAt(page: Page, email: string) {
    await expect.poll(() => heading(page)).toBe("OTP capture");
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(email));
    await page.getByLabel("Please enter the received code").fill(extractCode(mail.text));
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.getByRole("navigation", { name: "FAMOS sections" }).getByRole("link", { name: "Profile" }).count()).toBe(1);
  }

  it("offers the partner's usual domain for a near miss, and uses it with one click", async () => {
    // Partner 07777's staff confirmed their addresses at dealer-group.co.uk: its usual domain.
    await addUser(t.deps, { partnerNumber: "07777", email: "a.one@dealer-group.co.uk" });
    await addUser(t.deps, { partnerNumber: "07777", email: "b.two@dealer-group.co.uk" });
    const page = await atUserProfile(t, base, "07777");
    await enter(page, "c.three@dealer-grop.co.uk");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("Did you mean c.three@dealer-group.co.uk?");
    await expectAccessible(page);
    expect(await t.deps.db.selectFrom("users").select("pending_email").where("pending_email", "like", "c.three@%").executeTakeFirst()).toBeUndefined();

    await page.getByRole("button", { name: "Use c.three@dealer-group.co.uk" }).click();
    await confirmCodeAt(page, "c.three@dealer-group.co.uk");
  });

  it("offers a common mail domain for a slip, and keeps what was typed when Update is pressed again", async () => {
    const page = await atUserProfile(t, base);
    await enter(page, "sam.jones@gmial.com");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("Did you mean sam.jones@gmail.com?");
    expect(await page.getByRole("alert").textContent()).toContain("If sam.jones@gmial.com is right, press Update below to keep it.");
    await page.getByRole("button", { name: "Update" }).click();
    await expect.poll(() => heading(page)).toBe("OTP capture");
    await t.smtp.waitForMessage((m) => m.envelopeTo.includes("sam.jones@gmial.com"));
  });

  it("warns about an address another login ID confirmed, goes on with the tick, and the console lists the shared address", async () => {
    const first = await addUser(t.deps, { email: "front.desk@dealer.example" });
    const page = await atUserProfile(t, base);
    await enter(page, "Front.Desk@dealer.example");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("This address already receives the codes of another FAMOS login ID");
    await expectAccessible(page);
    await page.getByLabel("This is my own mailbox").check();
    await page.getByRole("button", { name: "Update" }).click();
    await confirmCodeAt(page, "Front.Desk@dealer.example");

    // Support's "Needs attention" lists the address with both login IDs.
    const agent = await addUser(t.deps, { role: "support", email: "agent@famos.test" });
    const console = await fixture.newPage();
    await logIn(console, base, agent);
    const code = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("agent@famos.test"));
    await console.getByLabel("Please enter the received code").fill(extractCode(code.text));
    await console.getByRole("button", { name: "Confirm" }).click();
    await console.goto(`${base}/support`);
    await console.getByRole("navigation", { name: "Support console" }).getByRole("link", { name: "Needs attention" }).click();
    await expect.poll(() => heading(console)).toBe("Needs attention");
    const shared = console.getByRole("table", { name: "Addresses that are the OTP email of more than one login ID" });
    await expect.poll(() => shared.textContent()).toContain(first.login_id);
    expect(await shared.textContent()).toContain("f•••@dealer.example");
    await expectAccessible(console);
  });

  it("refuses such an address under FAMOS_SHARED_MAILBOX_POLICY=refuse, with no tick to get past it", async () => {
    await addUser(refusing.deps, { email: "shared.box@dealer.example" });
    const page = await atUserProfile(refusing, refusingBase);
    await enter(page, "shared.box@dealer.example");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("This address already receives the codes of another FAMOS login ID. Use your individually assigned work email address.");
    expect(await page.getByLabel("This is my own mailbox").count()).toBe(0);
    expect(await heading(page)).toBe("User profile");
  });
});
