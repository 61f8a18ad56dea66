import { describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { factorChangedMail } from "../../src/strong-factors/messages.ts";

const AT = Date.UTC(2026, 10, 28, 14, 0, 0);

/**
 * rev2 finding C (persona, zonedWhen): the factor notice's last sentence ("Further changes … made before
 * {time} on {date} will not be mailed", mail.factorChanged.lastUntil) still says a clock time without its
 * zone: the one notice moment a2e04f50 left out (it takes {time}/{date}, not zonedWhen).
 */
describe("factor notice at the hourly cap", () => {
  it("names the zone of the moment until which further changes are not mailed", () => {
    const until = AT + 3_600_000;
    const de = factorChangedMail({ loginId: "j.smith", at: AT, supportEmail: "retailit@famos.test", t: translator("de", "Europe/Berlin"), change: { what: "app-added" }, unmailedUntil: until });
    const uk = factorChangedMail({ loginId: "j.smith", at: AT, supportEmail: "retailit@famos.test", t: translator("en-GB", "Europe/London"), change: { what: "app-added" }, unmailedUntil: until });
    expect(uk.text).toMatch(/before 15:00:00 on 28\/11\/2026 \(UK time\)/);
    expect(de.text).toMatch(/16:00:00 Uhr am 28\.11\.2026 \(Mitteleuropäische Zeit\)/);
  });
});
