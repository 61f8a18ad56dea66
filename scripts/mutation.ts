/**
 * `npm run mutation [-- --mutate "<glob>"] [--tests "<globs>"]`: StrykerJS over the security core (stryker.config.mjs)
 * against the unit tier, then the summary. Each run's HTML and JSON reports are kept under their own name in
 * reports/mutation/ (one per file group), and reports/mutation/summary.md is rebuilt from all of them:
 * the score per file and every surviving mutant. The committed reports/mutation-summary.md is merged
 * by hand from it: it keeps every file's standing across runs and machines, where reports/mutation/
 * (not committed) holds only this checkout's runs, and a script that rewrote it would drop the rest.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeMutationSummary } from "./lib/mutation-summary.ts";

const REPORTS = "reports/mutation";
const given = process.argv.slice(2);
// `--tests "<globs>"`: the unit-tier files this run uses (FAMOS_UNIT_TESTS, see vitest.unit.config.ts).
const testsAt = given.indexOf("--tests");
const tests = testsAt >= 0 ? given[testsAt + 1] : undefined;
const args = testsAt >= 0 ? [...given.slice(0, testsAt), ...given.slice(testsAt + 2)] : given;
const at = args.indexOf("--mutate");
const slug = at >= 0 && args[at + 1] ? args[at + 1]!.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "") : "all";
// A long list of files or ranges makes a name too long for the file system: shortened with a hash.
const group = slug.length <= 80 ? slug : `${slug.slice(0, 60)}-${createHash("sha256").update(slug).digest("hex").slice(0, 12)}`;

const started = Date.now();
const env = tests ? { ...process.env, FAMOS_UNIT_TESTS: tests } : process.env;
const stryker = spawnSync(process.execPath, ["node_modules/@stryker-mutator/core/bin/stryker.js", "run", "stryker.config.mjs", ...args], { stdio: "inherit", env });
const report = join(REPORTS, "mutation.json");
// Only this run's report: a run that failed to start leaves the previous one in place.
if (existsSync(report) && statSync(report).mtimeMs >= started) {
  mkdirSync(REPORTS, { recursive: true });
  copyFileSync(report, join(REPORTS, `group-${group}.json`));
  if (existsSync(join(REPORTS, "index.html"))) copyFileSync(join(REPORTS, "index.html"), join(REPORTS, `group-${group}.html`));
  const summary = join(REPORTS, "summary.md");
  process.stdout.write(`\n${writeMutationSummary(REPORTS, summary)}\n\nwritten: ${summary} (merge what changed into reports/mutation-summary.md by hand)\n`);
}
process.exit(stryker.status ?? 1);
