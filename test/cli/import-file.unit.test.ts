import { describe, expect, it } from "vitest";
import { checkImportFile, IMPORT_COLUMNS } from "../../src/cli/import-file.ts";

const ENROLMENT = { allowedDomains: [], sharedMailboxPolicy: "warn" as const, sharedMailboxNames: [] };

describe("the import file's header", () => {
  it("names a header of 50,000 stray columns in one short line: each unknown name once, the first few, and how many in all", () => {
    const checked = checkImportFile(`${IMPORT_COLUMNS.join(",")}${",".repeat(50_000)},extra\n`, ENROLMENT);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.message.length).toBeLessThan(400);
    expect(checked.message).toBe(
      `line 1 (the header): unknown columns "", "extra" (50001 in all). The header must be ${IMPORT_COLUMNS.join(",")} (any order).`,
    );
  });

  it("lists a few unknown columns as before", () => {
    const checked = checkImportFile("login,full_name,partner_number,role,email,password_hash,extra\n", ENROLMENT);
    expect(checked.ok ? "" : checked.message).toMatch(/^line 1 \(the header\): unknown columns "login", "extra"; missing login_id\. /);
  });
});
