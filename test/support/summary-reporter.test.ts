import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("the closing line of a test run (test/support/summary-reporter.ts)", () => {
  it("counts tests stopped by a failed beforeAll, a failed afterAll or a dead worker as failed: never '0 failed' on a failed run", async () => {
    const config = fileURLToPath(new URL("./fixtures/vitest.fixture.config.ts", import.meta.url));
    const outcome = await run(process.execPath, [fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url)), "run", "--config", config], { encoding: "utf8" }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(outcome.code).toBe(1);
    // 2 passed; failed: 2 behind the beforeAll, 1 afterAll, 1 assertion, and the 2 of the file whose
    // worker died under them (still pending at the end); skipped: the it.skip; the worker's death
    // itself is the error outside the tests.
    expect(outcome.stdout).toMatch(/^tests: 2 passed, 6 failed, 1 skipped, 1 error outside the tests$/m);
  }, 60_000);
});
