/**
 * An idle instance's CPU (issue 17, the twenty-ninth round): each build's server started on its own
 * SQLite file (migrated, no users, no requests), left `--settle` s, then its process CPU (the probe's
 * process.cpuUsage, µs) over `--seconds` s, in ms of CPU per second. What an idle server spends is its
 * timers: the mail sender's poll of the outbox every 2 s (FAMOS_MAIL_POLL) above all. Builds run one at
 * a time, in the order given, `--rounds` times, the order turned each round (a shared machine: compare
 * the builds within one run, never absolute figures across runs).
 *
 *   node --import tsx bench/idle-cpu.ts [--seconds 30] [--settle 5] [--rounds 4] --build <base dir> --build .
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Driver } from "./lib/driver.ts";
import { freePort, runCommand, ServerProcess } from "./lib/proc.ts";
import { fmt } from "./lib/stats.ts";
import { productEnv, REPO_ROOT } from "./scenarios/famos-target.ts";

const { values: argv } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    settle: { type: "string", default: "5" },
    rounds: { type: "string", default: "4" },
    build: { type: "string", multiple: true },
  },
});
const builds = (argv.build ?? [REPO_ROOT]).map((b) => resolve(b));
const seconds = Number(argv.seconds);
const driver = await Driver.start();
const workDir = await mkdtemp(join(tmpdir(), "famos-idle-cpu-"));
await runCommand(process.execPath, [join(REPO_ROOT, "scripts/build.js")], { cwd: REPO_ROOT, timeoutMs: 120_000 });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const perSecond = new Map<string, number[]>(builds.map((b) => [b, []]));

for (let round = 0; round < Number(argv.rounds); round += 1) {
  const order = round % 2 === 0 ? builds : [...builds].reverse();
  for (const [i, build] of order.entries()) {
    const port = await freePort();
    const env = { ...process.env, ...productEnv({ port, sinkPort: driver.sinkPort, dbPath: join(workDir, `famos-${round}-${i}.db`), secret: randomBytes(32).toString("hex") }) };
    const bin = join(build, "bin/famos.js");
    await runCommand(process.execPath, [bin, "migrate"], { cwd: REPO_ROOT, env, timeoutMs: 120_000 });
    const server = await ServerProcess.start({ name: `famos ${build}`, script: bin, typescript: false, args: ["serve"], cwd: REPO_ROOT, env, port, readyTimeoutMs: 60_000 });
    try {
      await wait(Number(argv.settle) * 1000);
      const before = await server.stats();
      await wait(seconds * 1000);
      const after = await server.stats();
      const ms = (after.cpuUserMs + after.cpuSystemMs - before.cpuUserMs - before.cpuSystemMs) / seconds;
      perSecond.get(build)!.push(ms);
      console.log(`round ${round + 1} ${build}: ${fmt(ms)} ms of CPU per second idle (${after.source})`);
    } finally {
      await server.stop();
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const build of builds) console.log(`${build}: median ${fmt(median(perSecond.get(build)!))} ms/s over ${perSecond.get(build)!.length} windows of ${seconds} s (${perSecond.get(build)!.map(fmt).join(", ")})`);
if (builds.length === 2) console.log(`second ÷ first: ${fmt(median(perSecond.get(builds[1]!)!) / median(perSecond.get(builds[0]!)!))}`);
await driver.close();
await rm(workDir, { recursive: true, force: true });
process.exit(0);
