import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, focusedId, heading, pressToNavigate, sharedSignIn, signInInBrowser } from "../support/browser.ts";

/**
 * The IT team's console forms in a real Chromium, keyboard and screen reader in mind: a refused form
 * says every problem at once, each beside its field and read with it, the typed values kept; the
 * audit trail's times say their zone; words in another language than the page's carry their `lang`.
 */
describe("console forms and language in a browser", { timeout: 120_000 }, () => {
  const f = useBrowserApp();
  const unique = `${process.pid}${Date.now() % 100_000}`;
  let people = 0;

  async function signIn(page: Page, role: "support" | "admin") {
    people += 1;
    const who = await addUser(f.t.deps, { role, loginId: `forms.${role}.${unique}.${people}`, email: `forms.${role}.${unique}.${people}@famos.test` });
    await signInInBrowser(page, f.t.mailbox, who, `${f.base}/login`);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    return who;
  }
  /** A support person for the tests that leave them as they were (the two that change their language sign in their own). */
  const support = sharedSignIn(() => f.base, (page) => signIn(page, "support"));

  /** The field's own error text, as a screen reader reads it with the field (aria-describedby). */
  async function describedError(page: Page, label: string): Promise<string> {
    const field = page.getByLabel(label, { exact: true });
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    const ids = (await field.getAttribute("aria-describedby")) ?? "";
    const texts = await Promise.all(ids.split(/\s+/).filter(Boolean).map((id) => page.locator(`[id="${id}"]`).textContent()));
    return texts.join(" ");
  }

  it("'Create a user' says every wrong field at once, each beside its field, and keeps what was typed", async () => {
    const page = await f.newPage();
    await signIn(page, "admin");
    await page.goto(`${f.base}/support/users/new`);
    await page.getByLabel("Login ID").fill("has space");
    await page.getByLabel("Full name").fill("   ");
    await page.getByLabel("Partner number").fill("12/34");
    await page.getByLabel("OTP email (optional)").fill("not-an-address");
    await page.getByLabel("OTP email (optional)").press("Enter");
    await expect.poll(() => heading(page)).toBe("Create a user");

    expect(await describedError(page, "Login ID")).toContain("The login ID must not contain spaces");
    expect(await describedError(page, "Full name")).toContain("The full name must be 1 to 200 printable characters");
    expect(await describedError(page, "Partner number")).toContain("The partner number must be 1 to 32 letters, digits or dashes");
    expect(await describedError(page, "OTP email (optional)")).toMatch(/email address/i);
    // The summary is announced, and the cursor is on the first wrong field.
    const alert = await page.getByRole("alert").textContent();
    expect(alert).toContain("4");
    expect(await focusedId(page)).toBe("loginId");
    expect(await page.getByLabel("Login ID").inputValue()).toBe("has space");
    expect(await page.getByLabel("Partner number").inputValue()).toBe("12/34");
    expect(await page.getByLabel("OTP email (optional)").inputValue()).toBe("not-an-address");
    await expectAccessible(page);
  });

  it("a notice without a title or a text says both at once, each beside its field", async () => {
    const page = await f.newPage();
    await support(page);
    await page.goto(`${f.base}/support/notices`);
    await page.getByLabel("Title").fill("  ");
    await page.getByRole("button", { name: "Post notice" }).click();
    await expect.poll(() => heading(page)).toBe("Notices");
    expect(await describedError(page, "Title")).toContain("Enter a title");
    expect(await describedError(page, "Text")).toContain("Enter the text of the notice");
    expect(await focusedId(page)).toBe("title");
    await expectAccessible(page);
  });

  it("the audit trail's Time column names the reader's zone, in English and in German", async () => {
    const page = await f.newPage();
    const who = await signIn(page, "support");
    await page.goto(`${f.base}/support/audit?user=${encodeURIComponent(who.login_id)}`);
    await expect.poll(() => page.locator("thead th").first().textContent()).toBe("Time (UK time)");
    expect(await page.locator("tbody tr td").first().textContent()).toMatch(/\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
    expect(await page.getByLabel("From (UK time)").count()).toBe(1);

    await f.t.deps.db.updateTable("users").set({ locale: "de", time_zone: "Europe/Berlin" }).where("id", "=", who.id).execute();
    await page.reload();
    expect(await page.locator("thead th").first().textContent()).toBe("Zeit (Mitteleuropäische Zeit)");
    expect(await page.locator("tbody tr td").first().textContent()).toMatch(/\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}/);
    await expectAccessible(page);
  });

  it("section tabs and a notice's title carry their language where the page is in another", async () => {
    const page = await f.newPage();
    const who = await signIn(page, "support");
    await page.goto(`${f.base}/support/notices`);
    await page.getByLabel("Title").fill("Application Issue");
    await page.getByLabel("Text").fill("Quotations may be slow this afternoon.");
    await page.getByRole("button", { name: "Post notice" }).click();
    await expect.poll(() => heading(page)).toBe("Notice: Application Issue");
    // In English on an English deployment nothing needs marking.
    expect(await page.locator("nav.tabs a[lang]").count()).toBe(0);

    await f.t.deps.db.updateTable("users").set({ locale: "fr" }).where("id", "=", who.id).execute();
    await page.goto(`${f.base}/profile`);
    expect(await page.locator("html").getAttribute("lang")).toBe("fr");
    expect(await page.getByRole("link", { name: "Quotation" }).getAttribute("lang")).toBe("en-GB");
    expect(await page.locator("aside.notices [lang='en-GB']").first().textContent()).toBe("Application Issue");
    await page.goto(`${f.base}/support/notices`);
    expect(await page.locator("tbody a [lang='en-GB'], tbody a[lang='en-GB']").first().textContent()).toBe("Application Issue");
    await expectAccessible(page);
  });

  it("disabling a leaver asks first, naming the person, and Cancel changes nothing (keyboard only)", async () => {
    const page = await f.newPage();
    await support(page);
    people += 1;
    const leaver = await addUser(f.t.deps, { loginId: `forms.leaver.${unique}.${people}`, fullName: "Lee Leaver", partnerNumber: "004702" });
    await page.goto(`${f.base}/support/users/${leaver.id}`);
    await page.getByRole("button", { name: "Disable", exact: true }).focus();
    await pressToNavigate(page);
    await expect.poll(() => heading(page)).toBe(`Disable the account of ${leaver.login_id}?`);
    expect(await page.textContent("main")).toContain("Lee Leaver");
    expect((await f.t.deps.db.selectFrom("users").select("disabled_at").where("id", "=", leaver.id).executeTakeFirstOrThrow()).disabled_at).toBeNull();
    await expectAccessible(page);
    await page.getByRole("link", { name: "Cancel" }).focus();
    await pressToNavigate(page);
    await expect.poll(() => heading(page)).toBe(`User ${leaver.login_id}`);
    expect((await f.t.deps.db.selectFrom("users").select("disabled_at").where("id", "=", leaver.id).executeTakeFirstOrThrow()).disabled_at).toBeNull();

    await page.getByRole("button", { name: "Disable", exact: true }).focus();
    await pressToNavigate(page);
    await expect.poll(() => heading(page)).toBe(`Disable the account of ${leaver.login_id}?`);
    await page.getByRole("button", { name: "Disable the account" }).focus();
    await pressToNavigate(page);
    await expect.poll(() => heading(page)).toBe(`User ${leaver.login_id}`);
    expect(await page.getByRole("status").first().textContent()).toMatch(/disabled/i);
    expect((await f.t.deps.db.selectFrom("users").select("disabled_at").where("id", "=", leaver.id).executeTakeFirstOrThrow()).disabled_at).not.toBeNull();
  });

  it("support is not asked to disable an administrator: the question page refuses as the action does", async () => {
    const page = await f.newPage();
    await support(page);
    people += 1;
    const admin = await addUser(f.t.deps, { role: "admin", loginId: `forms.boss.${unique}.${people}` });
    const answer = await page.goto(`${f.base}/support/users/${admin.id}/disable`);
    expect(answer?.status()).toBe(403);
    expect(await page.getByRole("button", { name: "Disable the account" }).count()).toBe(0);
  });

  it("an audit search whose From is after its Until says so instead of 'No events match.'", async () => {
    const page = await f.newPage();
    const who = await support(page);
    await page.goto(`${f.base}/support/audit?user=${encodeURIComponent(who.login_id)}`);
    await page.getByLabel("From (UK time)").fill("2026-12-05T00:00");
    await page.getByLabel("Until (UK time)").fill("2026-12-03T23:59");
    await page.getByLabel("Until (UK time)").press("Enter");
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    expect(await page.getByRole("alert").textContent()).toContain("“From” is after “Until”");
    expect(await page.textContent("main")).not.toContain("No events match.");
    expect(await page.getByLabel("From (UK time)").inputValue()).toBe("2026-12-05T00:00");
    await expectAccessible(page);
  });
});
