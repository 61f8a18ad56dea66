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

/**
 * FAMOS_UNIT_TESTS (comma-separated globs) narrows the tier to some of its files: a Stryker run over
 * one directory against the tests of that directory (`npm run mutation -- --mutate "src/x/**" --tests
 * "test/x/**"`), which on a shared 2-core machine is the difference between minutes and hours. A score
 * from a narrowed run is a lower bound: the whole tier can only kill more.
 */
const only = process.env.FAMOS_UNIT_TESTS?.split(",").filter((glob) => glob.trim() !== "");

export default defineConfig({
  test: {
    include: only?.length ? only : UNIT_TESTS,
    pool: "forks",
    // The modules stay loaded from one file to the next in each worker (and, under Stryker, from one
    // mutant to the next): importing the application again per file cost far more than the tests (the
    // tier's time was mostly import). Every test builds its own app and store, no unit file mocks a
    // module or changes the environment, so nothing of one file leaks into the next.
    isolate: false,
    maxWorkers: 2,
    // Generous: the machine is shared, and Stryker runs the tier beside its checker.
    testTimeout: 30_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
