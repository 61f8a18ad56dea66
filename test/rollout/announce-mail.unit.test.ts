import { expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { announcementMail } from "../../src/rollout/announce-mail.ts";
import { unitConfig } from "../support/unit-app.ts";

/**
 * The announcement tells staff when their wave starts. Every other time they read (the code's mail,
 * the lock mail, OTP capture, the portal) names its zone as people say it ("UK time", "ora del Regno
 * Unito"); the announcement said "(Europe/London)", an operator's setting, in every language.
 */
it("names the start's zone as the code's mail does, in each language and in summer and winter", () => {
  const config = unitConfig({ FAMOS_PUBLIC_URL: "https://famos.dealer.example" });
  for (const startsAt of [Date.UTC(2027, 0, 11, 7), Date.UTC(2027, 6, 12, 6)]) {
    for (const locale of LOCALES) {
      for (const zone of ["Europe/London", "Europe/Madrid"]) {
        const t = translator(locale, zone);
        const mail = announcementMail(config, { loginId: "anna", fullName: "Anna Rossi", partnerNumber: "4711", startsAt, now: startsAt - 86_400_000 }, t);
        const text = mail.text.replace(/\s+/g, " ");
        expect(text, `${locale} ${zone}`).toContain(`${t.dateTime(startsAt)} (${t.zone(startsAt)})`);
        expect(text, `${locale} ${zone}`).not.toContain(zone);
      }
    }
  }
});
