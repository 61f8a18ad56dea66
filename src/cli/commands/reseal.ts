import { Command } from "commander";
import { appsText, lostText, PREVIOUS_SECRET_DAYS, previousSecretDeadline, previousSecretReport } from "../../strong-factors/previous-secret.ts";
import { serversRunKeys } from "../../users/login-digest.ts";
import { withServices } from "../context.ts";

/**
 * `famos reseal`: after a change of FAMOS_SECRET (SECURITY.md, "Changing FAMOS_SECRET"), seals again
 * under it every authenticator-app secret FAMOS_SECRET_PREVIOUS opens, and says what still needs
 * FAMOS_SECRET_PREVIOUS (recovery codes issued before the change was first seen, kept only as their
 * HMAC) and so when it can be removed. Exit 1 when an app's secret opens under neither key, and, before
 * anything is written, when `famos serve` last started under another FAMOS_SECRET (the instances not
 * restarted yet, or this one mistyped): sealed under a key no running instance has, every app would be
 * refused. No --force: a server started once under the new secret is what lets it run.
 */
export function resealCommand(): Command {
  return new Command("reseal")
    .description("after a change of FAMOS_SECRET: seal again under it what FAMOS_SECRET_PREVIOUS opens, and say when FAMOS_SECRET_PREVIOUS can be removed")
    .action(async () => {
      await withServices(async ({ deps }) => {
        if ((await serversRunKeys(deps.db, deps.keys)) === false) {
          process.stderr.write(
            "famos reseal: famos serve last started under another FAMOS_SECRET than this command's: nothing sealed again. Restart every instance with the new FAMOS_SECRET (and FAMOS_SECRET_PREVIOUS) first, and check this command's FAMOS_SECRET is theirs.\n",
          );
          process.exitCode = 1;
          return;
        }
        const report = await previousSecretReport(deps.db, deps.keys, deps.random, deps.clock.now(), { reseal: true, record: true });
        const lines: string[] = [];
        if (!deps.keys.previous) lines.push("FAMOS_SECRET_PREVIOUS is not set: nothing is sealed again.");
        else lines.push(`${appsText(report.apps)} sealed again under FAMOS_SECRET.`);
        if (report.lost > 0) lines.push(lostText(report.lost) + ".");
        const codes = report.recoveryCodes;
        const oldCodes = codes?.codes ?? 0;
        if (codes && oldCodes > 0) {
          lines.push(
            `recovery codes: ${codes.codes} unused, issued before ${new Date(codes.since).toISOString()} to ${codes.users} user${codes.users === 1 ? "" : "s"}, ` +
              "may be open only under FAMOS_SECRET_PREVIOUS: each is kept under FAMOS_SECRET when used; a new set on Profile replaces them.",
          );
        }
        if (deps.keys.previous) {
          // Only the one secret before FAMOS_SECRET is kept: what a secret two changes back made is not read.
          const until = `at most ${PREVIOUS_SECRET_DAYS} days after the change, until ${new Date(previousSecretDeadline(report)!).toISOString()}`;
          if (oldCodes === 0 && report.lost === 0) lines.push("FAMOS_SECRET_PREVIOUS can be removed.");
          else if (oldCodes > 0) lines.push(`Keep FAMOS_SECRET_PREVIOUS until those recovery codes are used or replaced, ${until} (SECURITY.md).`);
          else lines.push("FAMOS_SECRET_PREVIOUS opens nothing left: it does not open the apps above.");
        }
        process.stdout.write(lines.join("\n") + "\n");
        if (report.lost > 0) process.exitCode = 1;
      });
    });
}
