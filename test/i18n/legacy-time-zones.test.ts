import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";
import { isCodeMail } from "../support/mailbox.ts";

/**
 * A time zone saved before Profile stored Intl's canonical name (canonicalTimeZone) is as it was
 * typed: "europe/london", "GB", "Zulu". Until the user saved Profile again, pages and mails named it
 * as Intl names the typed text ("United Kingdom Time", not FAMOS's "UK time"), and Profile's list
 * showed the typed name as "Your time zone now" beside the zone it is. Written straight into the table,
 * as such a row is: read through canonicalTimeZone wherever it is used, a name Intl does not know as
 * no choice (FAMOS_TIMEZONE, Europe/London here).
 */
describe("a time zone saved under a legacy name", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  async function savedAs(zone: string) {
    const user = await addUser(t.deps, {});
    await t.deps.db.updateTable("users").set({ time_zone: zone }).where("id", "=", user.id).execute();
    const before = t.smtp.messages.length;
    const { client } = await signIn(t, { user, page: null });
    const mail = t.smtp.messages.find((m) => t.smtp.messages.indexOf(m) >= before && isCodeMail(m.subject))!;
    return { mail: mail.text, profile: (await client.get("/profile")).body };
  }

  /** The options marked selected in Profile's "Time zone" select. */
  const selectedZones = (profile: string) => [...profile.slice(profile.indexOf('<select id="timeZone"')).matchAll(/<option value="([^"]*)" selected>/g)].map((m) => m[1]);

  it.each([
    ["europe/london", "Europe/London", "UK time"],
    ["GB", "Europe/London", "UK time"],
    ["Zulu", "UTC", "UTC"],
    ["Etc/UTC", "UTC", "UTC"],
  ])("%s is %s in the code mail, on pages and in Profile's list", async (stored, canonical, label) => {
    const { mail, profile } = await savedAs(stored);
    expect(mail).toContain(`(${label})`);
    expect(profile).toContain(`times are shown in your time zone (${label})`);
    expect(selectedZones(profile)).toEqual([canonical]);
    expect(profile).not.toContain(`value="${stored}"`);
    // Listed once: as the zone now, not again in its region.
    expect(profile.split(`<option value="${canonical}"`).length - 1).toBe(1);
  });

  it("a saved name Intl does not know is FAMOS_TIMEZONE's, and Profile offers the default as chosen", async () => {
    const { mail, profile } = await savedAs("Europe/Atlantis");
    expect(mail).toContain("(UK time)");
    expect(profile).toContain("times are shown in your time zone (UK time)");
    expect(selectedZones(profile)).toEqual([""]);
  });
});
