import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { deriveKeys } from "../../src/platform/keys.ts";
import { famosInProcess } from "../cli/famos-in-process.ts";
import { TEST_SECRET } from "../support/app.ts";

const NEW_SECRET = "c".repeat(64);

/** FAMOS_SECRET_PREVIOUS (README, "Changing FAMOS_SECRET"): a secret-bearing setting like FAMOS_SECRET, read only. */
describe("FAMOS_SECRET_PREVIOUS", () => {
  const dir = mkdtempSync(join(tmpdir(), "famos-secret-previous-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes a secret of FAMOS_SECRET's form, and refuses a short one or FAMOS_SECRET itself", () => {
    const load = (previous: string) => loadConfig({ FAMOS_SECRET: NEW_SECRET, FAMOS_SECRET_PREVIOUS: previous });
    const ok = load(TEST_SECRET);
    expect(ok.ok && ok.config.secretPrevious?.toString("hex")).toBe(TEST_SECRET);
    expect(load("abcd")).toMatchObject({ ok: false, errors: [expect.stringContaining("FAMOS_SECRET_PREVIOUS: must be at least 32 random bytes")] });
    expect(load(NEW_SECRET)).toMatchObject({ ok: false, errors: [expect.stringContaining("FAMOS_SECRET_PREVIOUS: is FAMOS_SECRET itself")] });
    const unset = loadConfig({ FAMOS_SECRET: NEW_SECRET });
    expect(unset.ok && unset.config.secretPrevious).toBeNull();
  });

  it("gives keys for reading an app's secret and a recovery code only, and none without it", () => {
    const keys = deriveKeys(Buffer.from(NEW_SECRET, "hex"), Buffer.from(TEST_SECRET, "hex"));
    const old = deriveKeys(Buffer.from(TEST_SECRET, "hex"));
    expect(keys.previous).toEqual({ totpSecret: old.totpSecret, recoveryCode: old.recoveryCode });
    expect(keys.totpSecret.equals(old.totpSecret)).toBe(false);
    expect("previous" in deriveKeys(Buffer.from(NEW_SECRET, "hex"))).toBe(false);
  });

  it("is read from FAMOS_SECRET_PREVIOUS_FILE and masked by `famos config`", async () => {
    const file = join(dir, "previous");
    writeFileSync(file, `${TEST_SECRET}\n`);
    const result = await famosInProcess(["config"], { FAMOS_SECRET: NEW_SECRET, FAMOS_SECRET_PREVIOUS_FILE: file });
    expect(result.code, result.stderr).toBe(0);
    const line = result.stdout.split("\n").find((l) => l.startsWith("FAMOS_SECRET_PREVIOUS ")) ?? "";
    expect(line).toMatch(new RegExp(`^FAMOS_SECRET_PREVIOUS\\s+\\*\\*\\*\\*\\s+FAMOS_SECRET_PREVIOUS_FILE ${file}$`));
    expect(result.stdout).not.toContain(TEST_SECRET);
  });
});
