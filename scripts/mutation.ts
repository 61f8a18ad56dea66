/**
 * `npm run mutation [-- --mutate "<glob>"]`: StrykerJS over the security core (stryker.config.mjs)
 * against the unit tier, then the summary. Each run's HTML and JSON reports are kept under their own name in
 * reports/mutation/ (one per file group), and reports/mutation-summary.md is rebuilt from all of them:
 * the score per file and every surviving mutant.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeMutationSummary } from "./lib/mutation-summary.ts";

const REPORTS = "reports/mutation";
const args = process.argv.slice(2);
const at = args.indexOf("--mutate");
const group = at >= 0 && args[at + 1] ? args[at + 1]!.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "") : "all";

const stryker = spawnSync(process.execPath, ["node_modules/@stryker-mutator/core/bin/stryker.js", "run", "stryker.config.mjs", ...args], { stdio: "inherit" });
const report = join(REPORTS, "mutation.json");
if (existsSync(report)) {
  mkdirSync(REPORTS, { recursive: true });
  copyFileSync(report, join(REPORTS, `group-${group}.json`));
  if (existsSync(join(REPORTS, "index.html"))) copyFileSync(join(REPORTS, "index.html"), join(REPORTS, `group-${group}.html`));
  process.stdout.write(`\n${writeMutationSummary(REPORTS, "reports/mutation-summary.md")}\n`);
}
process.exit(stryker.status ?? 1);
