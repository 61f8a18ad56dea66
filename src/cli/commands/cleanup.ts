import { Command } from "commander";
import { cleanupOnce } from "../../retention/schedule.ts";
import { operator, withServices } from "../context.ts";
import { Refused } from "../io.ts";

/** `famos cleanup` (issue 11): the retention job that `famos serve` runs hourly, now, with its counts. */
export function cleanupCommand(): Command {
  return new Command("cleanup")
    .description("remove expired sessions, finished flows and codes, old mail, failure counts, unused devices and bounce records, and old audit events; pseudonymise old events")
    .action(async () => {
      await withServices(async ({ deps }) => {
        const report = await cleanupOnce(deps, `cli-${process.pid}`, { actor: operator() });
        if (!report) throw new Refused("another instance is running the cleanup now; try again in a few minutes");
        const lines = [
          `sessions removed: ${report.sessions}`,
          `flows removed: ${report.flows}`,
          `codes removed: ${report.codes}`,
          `mail removed: ${report.mail}`,
          `failure counts removed: ${report.throttles}`,
          `devices removed: ${report.devices}`,
          `bounce records removed: ${report.addresses}`,
          `audit events removed: ${report.auditRemoved}`,
          `audit events pseudonymised: ${report.auditPseudonymised}`,
          `longest statement: ${report.longestStatementMs.toFixed(1)} ms (${report.longestStatement || "none"})`,
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      });
    });
}
