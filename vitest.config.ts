import { defineConfig } from "vitest/config";

// The CI machine has 2 cores: at most two test files run at once, each worker a child process of its
// own (forks keep native modules such as better-sqlite3 out of the runner's process).
//
// `isolate: false`: a worker runs file after file with the modules it has loaded, instead of a new
// process per file. Loading the application (Fastify, Kysely, the mail, passkey and browser libraries)
// cost each of the 125 files about 2.5 s of CPU, half the suite's time. It is safe because nothing in
// src/ keeps state at module level beyond caches of pure results (formatters, compiled messages), each
// test builds its own app, store, clock, SMTP server and metrics registry, and the one shared outside
// resource, the worker's Redis database, is emptied again for each file (test/support/per-file.ts).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    isolate: false,
    setupFiles: ["./test/support/per-file.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
