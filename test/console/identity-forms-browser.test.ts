import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, focusedId, heading, sharedSignIn, signInInBrowser } from "../support/browser.ts";

/**
 * The two forms that take the user's request (name, login ID, partner number, ticket: SPEC item 8) as
 * the IT team uses them in a real Chromium: a refused request says every problem at once, each
 * beside its field and read with it, as the console's other forms do, and changes nothing.
 */
describe("the OTP email reset and temporary password forms in a browser", { timeout: 120_000 }, () => {
  const f = useBrowserApp();
  const unique = `${process.pid}${Date.now() % 100_000}`;
  let people = 0;

  async function signIn(page: Page, role: "support" | "admin") {
    people += 1;
    const who = await addUser(f.t.deps, { role, loginId: `idform.${role}.${unique}.${people}`, email: `idform.${role}.${unique}.${people}@famos.test` });
    await signInInBrowser(page, f.t.mailbox, who, `${f.base}/login`);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    return who;
  }
  /** A support person shared by the tests that only read as them (sharedSignIn). */
  const support = sharedSignIn(() => f.base, (page) => signIn(page, "support"));

  async function caller() {
    people += 1;
    return addUser(f.t.deps, { loginId: `idform.caller.${unique}.${people}`, fullName: "Jane Smith", partnerNumber: "01234", email: `idform.caller.${unique}.${people}@famos.test` });
  }

  /** The field's own error text, as a screen reader reads it with the field (aria-describedby); null when the field is not marked wrong. */
  async function describedError(page: Page, label: string): Promise<string | null> {
    const field = page.getByLabel(label, { exact: true });
    if ((await field.getAttribute("aria-invalid")) !== "true") return null;
    const ids = (await field.getAttribute("aria-describedby")) ?? "";
    const texts = await Promise.all(ids.split(/\s+/).filter(Boolean).map((id) => page.locator(`[id="${id}"]`).textContent()));
    return texts.join(" ");
  }

  /** A wrong name and partner number, the login ID right, no ticket: three problems, each said beside its field. */
  async function typeWrongRequest(page: Page, loginId: string, labels: { name: string; loginId: string; partner: string; ticket: string }) {
    await page.getByLabel(labels.name, { exact: true }).fill("Jane Smyth");
    await page.getByLabel(labels.loginId, { exact: true }).fill(loginId);
    await page.getByLabel(labels.partner, { exact: true }).fill("1234");
    await page.getByLabel(labels.ticket, { exact: true }).fill("  ");
    await page.getByLabel(labels.ticket, { exact: true }).press("Enter");
  }

  const english = { name: "Name", loginId: "Login ID", partner: "Partner number", ticket: "Ticket reference" };

  async function expectSaidBesideFields(page: Page, labels: typeof english, words: { mismatch: RegExp; ticket: RegExp }) {
    expect(await describedError(page, labels.name)).toMatch(words.mismatch);
    expect(await describedError(page, labels.loginId)).toBeNull();
    expect(await describedError(page, labels.partner)).toMatch(words.mismatch);
    expect(await describedError(page, labels.ticket)).toMatch(words.ticket);
    // The summary is announced, counts three, and the cursor is on the first wrong field.
    expect(await page.getByRole("alert").textContent()).toContain("3");
    expect(await focusedId(page)).toBe("name");
    // What was typed stays.
    expect(await page.getByLabel(labels.name, { exact: true }).inputValue()).toBe("Jane Smyth");
    expect(await page.getByLabel(labels.partner, { exact: true }).inputValue()).toBe("1234");
    await expectAccessible(page);
  }

  it("'Reset OTP email' with a wrong name and partner number and no ticket says all three at once, beside their fields, and resets nothing", async () => {
    const page = await f.newPage();
    await support(page);
    const user = await caller();
    await page.goto(`${f.base}/support/users/${user.id}`);
    await typeWrongRequest(page, user.login_id, english);
    await expect.poll(() => heading(page)).toBe(`User ${user.login_id}`);
    await expectSaidBesideFields(page, english, { mismatch: /does not match the account/, ticket: /Enter the ticket reference/ });
    expect((await findUserById(f.t.deps.db, user.id))!.otp_email).toBe(user.otp_email);
  });

  it("'Set a temporary password' says the same in German, and sets nothing", async () => {
    const page = await f.newPage();
    const who = await signIn(page, "admin");
    await f.t.deps.db.updateTable("users").set({ locale: "de" }).where("id", "=", who.id).execute();
    const user = await caller();
    await page.goto(`${f.base}/support/users/${user.id}/temporary-password`);
    const german = { name: "Name", loginId: "Anmelde-ID", partner: "Partnernummer", ticket: "Ticketnummer" };
    await typeWrongRequest(page, user.login_id, german);
    await expect.poll(() => heading(page)).toBe(`Temporäres Passwort für ${user.login_id} festlegen`);
    await expectSaidBesideFields(page, german, { mismatch: /passt nicht zum Konto/, ticket: /Geben Sie die Ticketnummer/ });
    expect((await findUserById(f.t.deps.db, user.id))!.password_hash).toBe(user.password_hash);
  });

  it("a request that matches but has no ticket says only the ticket, beside it", async () => {
    const page = await f.newPage();
    await support(page);
    const user = await caller();
    await page.goto(`${f.base}/support/users/${user.id}/temporary-password`);
    await page.getByLabel("Name", { exact: true }).fill("jane  SMITH");
    await page.getByLabel("Login ID", { exact: true }).fill(user.login_id.toUpperCase());
    await page.getByLabel("Partner number", { exact: true }).fill("01234");
    await page.getByRole("button", { name: "Set a temporary password" }).click();
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    expect(await describedError(page, "Name")).toBeNull();
    expect(await describedError(page, "Partner number")).toBeNull();
    expect(await describedError(page, "Ticket reference")).toMatch(/Enter the ticket reference/);
    expect(await focusedId(page)).toBe("ticket");
    await expectAccessible(page);
  });
});
