import { defineConfig } from "vitest/config";

/**
 * The fast unit tier (`npm run test:unit`, and what `npm run mutation` runs against each mutant): the
 * rules of codes, regulation, sessions, passwords, return addresses, origins and keys over in-memory
 * SQLite with a fixed clock — no SMTP, no browser, no sockets, no other server. Every file here runs in
 * `npm test` as well.
 */
export const UNIT_TESTS = [
  "test/**/*.unit.test.ts",
  "test/otp/code.test.ts",
  "test/password/policy.test.ts",
  "test/password/hash.test.ts",
  "test/web/return-to.test.ts",
];

export default defineConfig({
  test: {
    include: UNIT_TESTS,
    pool: "forks",
    maxWorkers: 2,
    // Generous: the machine is shared, and Stryker runs the tier beside its checker.
    testTimeout: 30_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
