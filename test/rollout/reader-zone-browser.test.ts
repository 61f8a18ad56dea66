import { describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, signInInBrowser } from "../support/browser.ts";

/**
 * The Rollout page in the reader's zone, as the rest of the console (issue 16): an administrator in
 * Berlin on a London deployment sees the plan's times, the new start's field and the days in her own
 * zone, named as people say it, and what she types is read in it.
 */
describe("the Rollout page in the reader's time zone", { timeout: 120_000 }, () => {
  const f = useBrowserApp();
  const unique = `${process.pid}${Date.now() % 100_000}`;

  it("names the reader's zone, not the server's, and reads a new start in it (English and German)", async () => {
    const admin = await addUser(f.t.deps, { role: "admin", loginId: `zone.admin.${unique}`, email: `zone.admin.${unique}@famos.test` });
    await f.t.deps.db.updateTable("users").set({ time_zone: "Europe/Berlin" }).where("id", "=", admin.id).execute();
    const page = await f.newPage();
    await signInInBrowser(page, f.t.mailbox, admin, `${f.base}/login`);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    await page.goto(`${f.base}/support/rollout`);
    await expect.poll(() => heading(page)).toBe("Rollout");

    const partner = `Z${unique}`.slice(0, 32);
    await addUser(f.t.deps, { loginId: `zone.dealer.${unique}`, partnerNumber: partner, email: null });
    await page.getByLabel("Partner number (empty: the default start)").fill(partner);
    await page.getByLabel("Starts (Central European Time)").fill("2027-01-11T07:00");
    await page.getByRole("button", { name: "Save start" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toMatch(/saved/);
    // 07:00 in Berlin in January is 06:00 UTC.
    const wave = await f.t.deps.db.selectFrom("rollout_plan").selectAll().where("partner_number", "=", partner).executeTakeFirstOrThrow();
    expect(new Date(Number(wave.starts_at)).toISOString()).toBe("2027-01-11T06:00:00.000Z");

    expect(await page.getByRole("table", { name: "Start of two-factor sign-in (Central European Time)" }).count()).toBe(1);
    expect(await page.locator(`tr:has-text("Partner ${partner}") time`).first().textContent()).toBe("11/01/2027 07:00");
    expect(await page.getByRole("table", { name: "Confirmed OTP emails per day (Central European Time)" }).count()).toBe(1);
    expect(await page.textContent("main")).not.toContain("Europe/London");
    await expectAccessible(page);
    // "Download CSV" gives the start's local time in the same zone, beside UTC.
    const csv = await (await page.request.get(`${f.base}/support/rollout.csv`)).text();
    expect(csv).toContain(`"${partner}","2027-01-11T06:00:00.000Z","11/01/2027 07:00",`);
    // …and its offset from UTC there, last (starts_local_offset).
    expect(csv).toMatch(new RegExp(`"${partner}","2027-01-11T06:00:00\\.000Z",[^\\r]*,"UTC\\+01:00"\\r\\n`));

    await f.t.deps.db.updateTable("users").set({ locale: "de" }).where("id", "=", admin.id).execute();
    await page.reload();
    expect(await page.getByLabel("Beginnt (Mitteleuropäische Zeit)").count()).toBe(1);
    expect(await page.textContent("main")).not.toContain("Europe/");
    await expectAccessible(page);
  });
});
