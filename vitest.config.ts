import { defineConfig } from "vitest/config";

// The CI machine has 2 cores: at most two test files run at once, each in its own child process
// (forks isolate native modules such as better-sqlite3 and leave no state between files).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
