import type { Reporter, TestCase, TestModule, TestSuite } from "vitest/node";

/**
 * Prints one plain closing line, "tests: N passed, N failed[, N skipped][, N errors outside the
 * tests]", that CI systems read whatever the runner. A test that did not run because a hook of its
 * suite failed (a beforeAll that could not start a server) is failed, not skipped; so is a test still
 * pending when the run ended (its worker died under it: out of memory, killed); a suite whose afterAll
 * failed counts one failure of its own; a file that failed before any test was collected counts one.
 * So "0 failed" means nothing failed. Errors vitest caught outside any test (the worker's death
 * itself, an unhandled rejection) are counted apart: each fails the run too.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown> = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const blamed = new Set<TestSuite | TestModule>();
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed" || state === "pending") failed++;
        else {
          const broken = failedHookOwner(test);
          if (broken) {
            failed++;
            blamed.add(broken);
          } else skipped++;
        }
      }
      for (const owner of [module, ...module.children.allSuites()]) {
        if (owner.errors().length > 0 && !blamed.has(owner)) failed++;
      }
      if (module.state() === "failed" && module.errors().length === 0 && [...module.children.allTests()].length === 0) failed++;
    }
    const outside = unhandledErrors.length ? `, ${unhandledErrors.length} error${unhandledErrors.length > 1 ? "s" : ""} outside the tests` : "";
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}${outside}\n`);
  }
}

/** The nearest suite or file around a test whose hooks failed, if any. */
function failedHookOwner(test: TestCase): TestSuite | TestModule | null {
  for (let owner: TestSuite | TestModule = test.parent; ; owner = owner.parent) {
    if (owner.errors().length > 0) return owner;
    if (owner.type === "module") return null;
  }
}
