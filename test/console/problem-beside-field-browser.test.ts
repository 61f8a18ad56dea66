import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, focusedId, heading, sharedSignIn, signInInBrowser } from "../support/browser.ts";
import { addConfirmedApp } from "../strong-factors/helpers.ts";

/**
 * QA: two console forms said a problem at the top of the page, away from its field, where every other
 * console form says each beside its field: the Rollout plan form (a partner number and a start refused
 * one at a time, the first only) and "Remove second factors"' confirmation (the ticket's problem). A
 * screen reader user on the field did not hear why. Now both say every problem at once: announced
 * together at the top, each again beside its field and read with it, the cursor on the first.
 * The audit trail's filter too said its problems (an unknown event, "From" after "Until", a bad date)
 * only at the top, in one paragraph; now beside their fields like the others. "From" after "Until"
 * is a problem of both fields (either may be the wrong one): both are marked and say it.
 */
describe("the console's last forms say each problem beside its field", { timeout: 120_000 }, () => {
  const f = useBrowserApp();
  const unique = `${process.pid}${Date.now() % 100_000}`;
  let people = 0;

  async function signIn(page: Page, role: "support" | "admin") {
    people += 1;
    const who = await addUser(f.t.deps, { role, loginId: `beside.${role}.${unique}.${people}`, email: `beside.${role}.${unique}.${people}@famos.test` });
    await signInInBrowser(page, f.t.mailbox, who, `${f.base}/login`);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    return who;
  }
  /** A support person shared by the tests that only read as them (sharedSignIn). */
  const support = sharedSignIn(() => f.base, (page) => signIn(page, "support"));

  /** The field's reason: read with it (aria-describedby), and standing beside it inside the form. */
  async function problemBeside(page: Page, label: string): Promise<string> {
    const field = page.getByLabel(label, { exact: true });
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    const ids = ((await field.getAttribute("aria-describedby")) ?? "").split(/\s+/).filter(Boolean);
    expect(ids.length).toBeGreaterThan(0);
    const problem = page.locator(`[id="${ids[0]}"]`);
    expect(await problem.evaluate((p, fieldId) => p.closest("form") !== null && p.closest("form") === document.getElementById(fieldId!)?.closest("form"), await field.getAttribute("id"))).toBe(true);
    return (await problem.textContent()) ?? "";
  }

  it("the Rollout plan form says a wrong partner number and a missing start at once, each beside its field", async () => {
    const page = await f.newPage();
    await signIn(page, "admin");
    await page.goto(`${f.base}/support/rollout`);
    await page.getByLabel("Partner number (empty: the default start)").fill("12/34");
    await page.getByRole("button", { name: "Save start" }).click();
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    expect(await heading(page)).toBe("Rollout");

    expect(await problemBeside(page, "Partner number (empty: the default start)")).toContain("The partner number must be 1 to 32 letters, digits or dashes");
    expect(await problemBeside(page, "Starts (UK time)")).toContain("The start must be a date and time");
    expect(await page.getByRole("alert").textContent()).toContain("2");
    expect(await focusedId(page)).toBe("partner");
    expect(await page.getByLabel("Partner number (empty: the default start)").inputValue()).toBe("12/34");
    await expectAccessible(page);
  });

  it("'Remove second factors' says a refused ticket beside its field, with the cursor on it", async () => {
    const page = await f.newPage();
    await support(page);
    people += 1;
    const target = await addUser(f.t.deps, { loginId: `beside.target.${unique}.${people}` });
    await addConfirmedApp(f.t.deps, target.id);
    await page.goto(`${f.base}/support/users/${target.id}`);
    await page.getByRole("button", { name: "Remove second factors" }).click();
    await expect.poll(() => heading(page)).toBe(`Remove the second factors of ${target.login_id}?`);
    await page.getByLabel("Ticket reference (optional)").fill("INC\u200b13");
    await page.getByRole("button", { name: "Confirm removal" }).click();
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);

    expect(await problemBeside(page, "Ticket reference (optional)")).toContain("invisible characters (such as zero-width spaces, direction marks or emoji style selectors)");
    expect(await page.getByRole("alert").getByRole("link").getAttribute("href")).toBe("#ticket");
    expect(await focusedId(page)).toBe("ticket");
    expect(await page.getByLabel("Ticket reference (optional)").inputValue()).toBe("INC\u200b13");
    await expectAccessible(page);
  });
  it("the audit trail's filter says an unknown event, 'From' after 'Until' and a bad date at once, each beside its field, the values kept", async () => {
    const page = await f.newPage();
    const who = await support(page);
    // A link pasted into a ticket: an event that does not exist and a window that ends before it starts.
    const query = new URLSearchParams({ user: who.login_id, event: "made.up", from: "2026-11-28T10:00", until: "2026-11-27T10:00" });
    await page.goto(`${f.base}/support/audit?${query.toString()}`);
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    expect(await heading(page)).toBe("Audit trail");
    expect(await problemBeside(page, "Event")).toContain("There is no event called “made.up”");
    // One problem of two fields: said beside each and read with each, counted and linked once.
    expect(await problemBeside(page, "From (UK time)")).toContain("“From” is after “Until”");
    expect(await problemBeside(page, "Until (UK time)")).toContain("“From” is after “Until”");
    expect(await page.getByRole("alert").textContent()).toContain("2 problems");
    expect(await page.getByRole("alert").getByRole("link").evaluateAll((links) => links.map((a) => a.getAttribute("href")))).toEqual(["#event", "#from"]);
    expect(await focusedId(page)).toBe("event");
    expect(await page.getByLabel("User (login ID)").inputValue()).toBe(who.login_id);
    expect(await page.getByLabel("From (UK time)").inputValue()).toBe("2026-11-28T10:00");
    expect(await page.getByLabel("Until (UK time)").inputValue()).toBe("2026-11-27T10:00");
    await expectAccessible(page);

    // The window alone: the cursor on "From", the first of its two fields.
    await page.goto(`${f.base}/support/audit?${new URLSearchParams({ from: "2026-11-28T10:00", until: "2026-11-27T10:00" }).toString()}`);
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    expect(await problemBeside(page, "From (UK time)")).toContain("“From” is after “Until”");
    expect(await problemBeside(page, "Until (UK time)")).toContain("“From” is after “Until”");
    expect(await page.getByRole("alert").textContent()).toContain("1 problem,");
    expect(await page.getByRole("alert").getByRole("link").evaluateAll((links) => links.map((a) => a.getAttribute("href")))).toEqual(["#from"]);
    expect(await focusedId(page)).toBe("from");
    await expectAccessible(page);

    await page.goto(`${f.base}/support/audit?until=yesterday`);
    await expect.poll(() => page.getByRole("alert").count()).toBe(1);
    expect(await problemBeside(page, "Until (UK time)")).toContain("“yesterday” is not a date and time");
    expect(await focusedId(page)).toBe("until");
    await expectAccessible(page);
  });
});
