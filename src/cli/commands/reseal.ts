import { Command } from "commander";
import { appsText, lostText, PREVIOUS_SECRET_DAYS, previousSecretDeadline, previousSecretReport } from "../../strong-factors/previous-secret.ts";
import { withServices } from "../context.ts";

/**
 * `famos reseal`: after a change of FAMOS_SECRET (SECURITY.md, "Changing FAMOS_SECRET"), seals again
 * under it every authenticator-app secret FAMOS_SECRET_PREVIOUS opens, and says what still needs
 * FAMOS_SECRET_PREVIOUS (recovery codes issued before the change, kept only as their HMAC) and so
 * when it can be removed. Exit 1 when an app's secret opens under neither key.
 */
export function resealCommand(): Command {
  return new Command("reseal")
    .description("after a change of FAMOS_SECRET: seal again under it what FAMOS_SECRET_PREVIOUS opens, and say when FAMOS_SECRET_PREVIOUS can be removed")
    .action(async () => {
      await withServices(async ({ deps }) => {
        const report = await previousSecretReport(deps.db, deps.keys, deps.random, deps.clock.now(), true);
        const lines: string[] = [];
        if (!deps.keys.previous) lines.push("FAMOS_SECRET_PREVIOUS is not set: nothing is sealed again.");
        else lines.push(`${appsText(report.apps)} sealed again under FAMOS_SECRET.`);
        if (report.lost > 0) lines.push(lostText(report.lost) + ".");
        const codes = report.recoveryCodes;
        if (codes && codes.codes > 0) {
          lines.push(
            `recovery codes: ${codes.codes} unused, issued before ${new Date(codes.since).toISOString()} to ${codes.users} user${codes.users === 1 ? "" : "s"}, ` +
              "may be open only under FAMOS_SECRET_PREVIOUS: each is kept under FAMOS_SECRET when used; a new set on Profile replaces them.",
          );
        }
        if (deps.keys.previous) {
          const until = `at most ${PREVIOUS_SECRET_DAYS} days after the change, until ${new Date(previousSecretDeadline(report)!).toISOString()}`;
          lines.push(report.lost === 0 && (codes?.codes ?? 0) === 0 ? "FAMOS_SECRET_PREVIOUS can be removed." : `Keep FAMOS_SECRET_PREVIOUS until nothing above needs it, ${until} (SECURITY.md).`);
        }
        process.stdout.write(lines.join("\n") + "\n");
        if (report.lost > 0) process.exitCode = 1;
      });
    });
}
