/**
 * The retention job on a database seeded with 110,000 expired rows, on SQLite and PostgreSQL (the
 * local server, a schema of its own): the whole run's time and its longest statement. Timings are
 * reported here, never asserted in tests. Run: node --import tsx scripts/cleanup-bench.ts
 */
import { cpus } from "node:os";
import { runCleanup } from "../src/retention/cleanup.ts";
import { cryptoRandom } from "../src/platform/random.ts";
import { createUser } from "../src/users/users.ts";
import { DIALECTS, openInstances } from "../test/store/dialects.ts";
import { seedExpired } from "../test/retention/seed.ts";

const SEED = { sessions: 20_000, flows: 20_000, mail: 20_000, throttles: 10_000, auditOld: 10_000, auditToScrub: 10_000 };

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}`);
for (const dialect of DIALECTS) {
  const t = await openInstances(dialect, 1, `cleanup_bench_${dialect}`);
  try {
    const deps = t.deps[0]!;
    const user = (await createUser(deps.db, deps.keys, cryptoRandom, t.clock.now(), { loginId: "bench", fullName: "Bench", partnerNumber: "1", role: "user", passwordHash: "x", otpEmail: null }))!;
    await seedExpired(deps.db, user.id, t.clock.now(), SEED);
    const started = performance.now();
    const report = await runCleanup(deps);
    const total = performance.now() - started;
    const rows = report.sessions + report.flows + report.codes + report.mail + report.throttles + report.auditRemoved + report.auditPseudonymised;
    console.log(
      `${dialect}: ${rows} rows in ${(total / 1000).toFixed(2)} s; longest statement ${report.longestStatementMs.toFixed(1)} ms (${report.longestStatement}); ${JSON.stringify(report)}`,
    );
  } finally {
    await t.close();
  }
}
