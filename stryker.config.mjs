// Mutation testing of the security core (`npm run mutation`): each mutant of these files is run
// against the unit tier (vitest.unit.config.ts). One file group at a time:
//   npm run mutation -- --mutate "src/otp/**/*.ts"
// Reports: reports/mutation/index.html and mutation.json (not committed; the summary is
// reports/mutation/summary.md, merged by hand into reports/mutation-summary.md). Survivors that no test can kill are listed in SECURITY.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.unit.config.ts" },
  checkers: ["typescript"],
  // The checker type-checks src only (each mutant is checked on its own; the tests are not its concern).
  tsconfigFile: "tsconfig.stryker.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: [
    "src/otp/**/*.ts",
    "src/regulation/**/*.ts",
    "src/session/**/*.ts",
    "src/signin/**/*.ts",
    "src/factors/**/*.ts",
    "src/password/**/*.ts",
    "src/web/{origin,csrf,return-to,auth,upstream-headers,input-guard,rate-limit,security-cookie}.ts",
  ],
  coverageAnalysis: "perTest",
  // The machine has 2 cores shared with everything else (and other helpers): one mutant at a time.
  concurrency: 1,
  timeoutMS: 20_000,
  reporters: ["clear-text", "progress-append-only", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
