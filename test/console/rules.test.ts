import { describe, expect, it } from "vitest";
import { AUDIT_CSV_HEADER, auditCsvRow, csvField, guardFormula } from "../../src/support/audit-csv.ts";
import { refusal, type Acting } from "../../src/support/acting.ts";
import { mismatchedFields, sameLoginId, sameName, samePartnerNumber } from "../../src/support/identity-match.ts";
import { containsPattern } from "../../src/support/search.ts";
import { parseLocalDateTime } from "../../src/support/zoned-time.ts";
import type { User } from "../../src/users/users.ts";

describe("reset identity matching (SPEC item 8)", () => {
  it("compares the name without regard to case and runs of spaces", () => {
    expect(sameName("  jane   MARY smith ", "Jane Mary  Smith")).toBe(true);
    expect(sameName("Jane\tSmith", "Jane Smith")).toBe(true);
    expect(sameName("Jane Smyth", "Jane Smith")).toBe(false);
    expect(sameName("JaneSmith", "Jane Smith")).toBe(false);
    expect(sameName("", "")).toBe(false);
  });
  it("compares the login ID without regard to case", () => {
    expect(sameLoginId(" J.SMITH ", "j.smith")).toBe(true);
    expect(sameLoginId("j.smith2", "j.smith")).toBe(false);
  });
  it("compares the partner number exactly after trimming: leading zeros count", () => {
    expect(samePartnerNumber(" 01234 ", "01234")).toBe(true);
    expect(samePartnerNumber("1234", "01234")).toBe(false);
    expect(samePartnerNumber("001234", "01234")).toBe(false);
    expect(samePartnerNumber("AB-1", "ab-1")).toBe(false);
  });
  it("names every field that does not match", () => {
    const account = { name: "Jane Smith", loginId: "jsmith", partnerNumber: "007" };
    expect(mismatchedFields({ name: "jane smith", loginId: "JSMITH", partnerNumber: "007" }, account)).toEqual([]);
    expect(mismatchedFields({ name: "x", loginId: "y", partnerNumber: "7" }, account)).toEqual(["name", "loginId", "partnerNumber"]);
  });
});

describe("who may act on which account", () => {
  const user = (id: string, role: User["role"]) => ({ id, role }) as User;
  const by = (u: User | null): Acting => ({ user: u, audit: { actor: u?.id ?? "operator:root", ip: null, userAgent: null } });
  it("lets support reset and unlock users and other support staff, never itself, never an admin, never change roles", () => {
    const support = user("s", "support");
    expect(refusal(by(support), user("u", "user"), "reset")).toBeNull();
    expect(refusal(by(support), user("s2", "support"), "unlock")).toBeNull();
    expect(refusal(by(support), support, "reset")?.reason).toBe("own-account");
    expect(refusal(by(support), support, "view")).toBeNull();
    expect(refusal(by(support), user("a", "admin"), "reset")?.reason).toBe("admin-account");
    expect(refusal(by(support), user("u", "user"), "role")?.reason).toBe("admin-only");
  });
  it("lets admin do everything to others, nothing to itself; the command-line operator anything; a user nothing", () => {
    const admin = user("a", "admin");
    expect(refusal(by(admin), user("a2", "admin"), "reset")).toBeNull();
    expect(refusal(by(admin), user("u", "user"), "role")).toBeNull();
    expect(refusal(by(admin), admin, "role")?.reason).toBe("own-account");
    expect(refusal(by(null), admin, "role")).toBeNull();
    expect(refusal(by(user("u", "user")), user("v", "user"), "view")?.reason).toBe("no-role");
  });
});

describe("audit CSV (RFC 4180, OWASP CSV injection)", () => {
  it("quotes every field and doubles quotes, keeping commas and line breaks inside", () => {
    expect(csvField('a,"b"\r\nc')).toBe('"a,""b""\r\nc"');
    expect(csvField("")).toBe('""');
  });
  it("prefixes cells a spreadsheet would run as a formula", () => {
    for (const value of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]) expect(guardFormula(value)).toBe(`'${value}`);
    for (const value of ["a=1", "1-2", "operator:root", "{\"a\":1}"]) expect(guardFormula(value)).toBe(value);
  });
  it("writes one event as a CRLF-terminated row with both times", () => {
    const row = auditCsvRow(
      { id: 1, time: Date.UTC(2026, 5, 14, 16, 47), event: "email.reset", actor: "anna", subject: "=x", ip: "10.0.0.1", userAgent: null, detail: { ticket: "INC1" } },
      "Europe/London",
    );
    expect(row).toBe('"2026-06-14T16:47:00.000Z","14/06/2026 17:47","email.reset","anna","\'=x","10.0.0.1","","{""ticket"":""INC1""}","UTC+01:00"\r\n');
  });
  it("gives time_local its zone's offset in a column of its own, appended so the others keep their names and places", () => {
    expect(AUDIT_CSV_HEADER).toEqual(["time_utc", "time_local", "event", "actor", "subject", "ip", "user_agent", "detail", "time_local_offset"]);
    const at = (time: number, zone: string) => auditCsvRow({ id: 1, time, event: "lock.started", actor: null, subject: null, ip: null, userAgent: null, detail: {} }, zone);
    // The same wall-clock hour twice on the night the clocks go back: only the offset tells them apart.
    expect(at(Date.UTC(2026, 9, 25, 0, 30), "Europe/London")).toMatch(/^"[^"]+","25\/10\/2026 01:30",.*,"UTC\+01:00"\r\n$/);
    expect(at(Date.UTC(2026, 9, 25, 1, 30), "Europe/London")).toMatch(/^"[^"]+","25\/10\/2026 01:30",.*,"UTC\+00:00"\r\n$/);
    expect(at(Date.UTC(2026, 5, 14, 16, 47), "America/New_York")).toMatch(/,"UTC-04:00"\r\n$/);
    expect(at(Date.UTC(2026, 5, 14, 16, 47), "Asia/Kolkata")).toMatch(/,"UTC\+05:30"\r\n$/);
  });
});

describe("search patterns and time filters", () => {
  it("escapes LIKE wildcards so they match themselves", () => {
    expect(containsPattern("50%_a\\b")).toBe("%50\\%\\_a\\\\b%");
  });
  it("reads datetime-local values as wall-clock time in FAMOS_TIMEZONE, summer time included", () => {
    expect(parseLocalDateTime("2026-11-28T14:00", "Europe/London")).toBe(Date.UTC(2026, 10, 28, 14, 0));
    expect(parseLocalDateTime("2026-06-14T17:47", "Europe/London")).toBe(Date.UTC(2026, 5, 14, 16, 47));
    expect(parseLocalDateTime("2026-06-14T17:47:30", "America/New_York")).toBe(Date.UTC(2026, 5, 14, 21, 47, 30));
    // One space for the T (a command line's "2026-06-14 17:47"), the same time; two are refused.
    expect(parseLocalDateTime("2026-06-14 17:47", "Europe/London")).toBe(Date.UTC(2026, 5, 14, 16, 47));
    for (const bad of ["2026-02-31T10:00", "2026-06-14  17:47", "yesterday", "2026-06-14T24:00", ""]) {
      expect(parseLocalDateTime(bad, "Europe/London"), bad).toBeNull();
    }
  });
});
