import { Command } from "commander";
import { appsText, lostText, PREVIOUS_SECRET_DAYS, previousSecretDeadline, previousSecretReport } from "../../strong-factors/previous-secret.ts";
import { serversRunKeys } from "../../users/login-digest.ts";
import { withServices } from "../context.ts";

/**
 * `famos reseal`: after a change of FAMOS_SECRET (SECURITY.md, "Changing FAMOS_SECRET"), seals again
 * under it every authenticator-app secret FAMOS_SECRET_PREVIOUS opens, and says what still needs
 * FAMOS_SECRET_PREVIOUS (recovery codes issued before the change was first seen, kept only as their
 * HMAC) and so when it can be removed. Exit 1 when an app's secret opens under neither key, and, before
 * anything is written, when the login digests were last made under another FAMOS_SECRET (this one
 * mistyped, no instance restarted yet, or a start under it failed) or a start under this one has not
 * finished making them (serversRunKeys): sealed under a key no running instance has, every app would be
 * refused. It sees only what the starts kept, not an instance still on the old secret: every instance
 * must be restarted first (README, "Changing FAMOS_SECRET"). No --force: a start that finished under the
 * new secret is what lets it run.
 */
const FAILED = `its log says "login ID digests not made again under FAMOS_SECRET" if it failed`;
/** Why reseal refuses, in the words of what it checked (serversRunKeys), and what to do. */
const RUNS_ANOTHER = {
  another: `the login ID digests were last made by a famos serve start under another FAMOS_SECRET than this command's (this command's mistyped, no instance restarted yet, or a start under it failed: ${FAILED})`,
  unfinished: `a famos serve start under this FAMOS_SECRET has not finished making the login ID digests (still running, or stopped: ${FAILED})`,
  then: "Restart every instance with the new FAMOS_SECRET (and FAMOS_SECRET_PREVIOUS), check this command's FAMOS_SECRET is theirs, and run it again once a start has finished.",
};

export function resealCommand(): Command {
  return new Command("reseal")
    .description("after a change of FAMOS_SECRET: seal again under it what FAMOS_SECRET_PREVIOUS opens, and say when FAMOS_SECRET_PREVIOUS can be removed")
    .action(async () => {
      await withServices(async ({ deps }) => {
        const servers = await serversRunKeys(deps.db, deps.keys);
        if (servers === "another" || servers === "unfinished") {
          process.stderr.write(`famos reseal: ${RUNS_ANOTHER[servers]}: nothing sealed again. ${RUNS_ANOTHER.then}\n`);
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
