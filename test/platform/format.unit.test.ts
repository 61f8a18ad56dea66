import { describe, expect, it } from "vitest";
import { formatDate, formatDateTime, formatTime } from "../../src/platform/format.ts";

describe("formatTime / formatDate, kept per minute", () => {
  it("say what Intl says for every moment, in zones with odd offsets and across DST changes", () => {
    const zones = ["Europe/London", "Europe/Dublin", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "UTC"];
    for (const zone of zones) {
      for (const locale of ["en-GB", "fr", "de"]) {
        const date = new Intl.DateTimeFormat(locale, { timeZone: zone, day: "2-digit", month: "2-digit", year: "numeric" });
        const time = new Intl.DateTimeFormat(locale, { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
        // Every few hours (and odd seconds) over years with DST changes, asked twice: formatted, then kept.
        // What Intl says is asked once per moment (the test's own formatting was most of its time).
        const wrong: string[] = [];
        for (let ms = Date.UTC(2024, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 5 * 3_600_000 + 59_999) {
          const [intlTime, intlDate] = [time.format(ms), date.format(ms)];
          for (let round = 0; round < 2; round += 1) {
            if (formatTime(ms, zone, locale) !== intlTime || formatDate(ms, zone, locale) !== intlDate) wrong.push(`${zone} ${locale} ${ms}`);
            if (formatDateTime(ms, zone, locale) !== `${intlDate} ${intlTime}`) wrong.push(`dateTime ${zone} ${locale} ${ms}`);
          }
        }
        expect(wrong).toEqual([]);
      }
    }
  });

  it("keeps seconds out: the last second of a minute reads like its first", () => {
    const minute = Date.UTC(2026, 2, 29, 0, 59);
    expect(formatDateTime(minute + 59_999, "Europe/London")).toBe(formatDateTime(minute, "Europe/London"));
    expect(formatDateTime(minute + 60_000, "Europe/London")).toBe("29/03/2026 02:00");
  });

  it("formats moments before 1973 (offsets of seconds) without keeping them", () => {
    const ms = Date.UTC(1900, 0, 1, 12, 0, 30);
    const time = new Intl.DateTimeFormat("en-GB", { timeZone: "Africa/Monrovia", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    expect(formatTime(ms, "Africa/Monrovia")).toBe(time.format(ms));
    const date = new Intl.DateTimeFormat("en-GB", { timeZone: "Africa/Monrovia", day: "2-digit", month: "2-digit", year: "numeric" });
    expect(formatDateTime(ms, "Africa/Monrovia")).toBe(`${date.format(ms)} ${time.format(ms)}`);
    expect(formatDateTime(ms + 60_000, "Africa/Monrovia")).toBe(`${date.format(ms + 60_000)} ${time.format(ms + 60_000)}`);
    expect(() => formatTime(Number.NaN, "UTC")).toThrow(RangeError);
  });
});
