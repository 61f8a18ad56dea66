import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, signInInBrowser } from "../support/browser.ts";
import { smtpMailbox } from "../support/mailbox.ts";

/**
 * FAMOS keeps UTC and the fixed offsets Etc/GMT±N as a user's time zone (canonicalTimeZone: "Zulu" and
 * "Etc/UTC" are UTC), but Intl's list of zones, Profile's "Time zone" list, has none of them: a user whose
 * saved zone was one of them and who changed away could not pick it again. Profile offers them under
 * "Other": UTC named plainly, a fixed offset as staff read it ("UTC−05:00", where IANA's Etc/GMT+5 has the
 * sign inverted), saying it keeps no summer time. Chromium, axe on the page.
 */
describe("Profile's time zone list offers UTC and the fixed offsets (browser)", () => {
  const f = useBrowserApp();

  const savedZone = async (id: string) => (await f.t.deps.db.selectFrom("users").select("time_zone").where("id", "=", id).executeTakeFirstOrThrow()).time_zone;
  const selectedLabel = (page: Page) => page.locator("#timeZone").evaluate((select: HTMLSelectElement) => select.selectedOptions[0]!.textContent);
  async function save(page: Page, choose: (select: ReturnType<Page["locator"]>) => Promise<unknown>) {
    await choose(page.locator("#timeZone"));
    await page.getByRole("button", { name: "Save language and time zone" }).click();
    await expect.poll(() => page.getByText("Your language and time zone have been saved.").count()).toBe(1);
  }

  it("a user at UTC who changes away picks UTC again, then UTC−05:00 (Etc/GMT+5), by the names shown", async () => {
    const user = await addUser(f.t.deps, { loginId: "utc.user", email: "utc.user@dealer.example" });
    await f.t.deps.db.updateTable("users").set({ time_zone: "UTC" }).where("id", "=", user.id).execute();
    const page = await f.newPage();
    await signInInBrowser(page, smtpMailbox(f.t.smtp), user, `${f.base}/login`);
    await page.goto(`${f.base}/profile`);
    expect(await heading(page)).toBe("Profile");
    expect(await selectedLabel(page)).toBe("UTC – Coordinated Universal Time");

    await save(page, (select) => select.selectOption("Europe/Berlin"));
    expect(await savedZone(user.id)).toBe("Europe/Berlin");
    await save(page, (select) => select.selectOption({ label: "UTC – Coordinated Universal Time" }));
    expect(await savedZone(user.id)).toBe("UTC");
    await save(page, (select) => select.selectOption({ label: "UTC−05:00, no summer time" }));
    expect(await savedZone(user.id)).toBe("Etc/GMT+5");
    expect(await selectedLabel(page)).toBe("UTC−05:00, no summer time");
    // Pages and mails already say it so in a sentence (format.ts zoneName), five hours behind UTC.
    expect(await page.getByText("times are shown in your time zone").textContent()).toContain("(UTC−05:00)");
    // Under "Other", UTC first, then the offsets from −12:00 to +14:00.
    const other = await page.locator('#timeZone optgroup[label="Other"] option').allTextContents();
    expect(other.slice(0, 3)).toEqual(["UTC – Coordinated Universal Time", "UTC−12:00, no summer time", "UTC−11:00, no summer time"]);
    expect(other.at(-1)).toBe("UTC+14:00, no summer time");
    expect(other).toHaveLength(1 + 26 - 1); // UTC and the 26 offsets, less the one now shown first as the current zone
    await expectAccessible(page);
  });
});
