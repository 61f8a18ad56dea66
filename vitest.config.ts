import { defineConfig } from "vitest/config";

// The CI machine has 2 cores, and three test files run at once, each worker a child process of its own
// (forks keep native modules such as better-sqlite3 out of the runner's process). Three, not two: a test
// file mostly waits (on the hashing threads, a child process, Chromium, PostgreSQL, a socket's real
// timeout), so two workers kept the two cores less than half busy. Measured on 110 files drawn at random,
// alternated in one sitting with the run's scheduling group above the machine's other work: wall time
// 2 workers 234.5 s and 248.6 s, 3 workers 209.2 s and 201.5 s (0.85 of two), 4 workers 215.4 s.
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
    maxWorkers: 3,
    isolate: false,
    setupFiles: ["./test/support/per-file.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
