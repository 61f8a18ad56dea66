import { Command } from "commander";
import { generateTemporaryPassword, setTemporaryPassword } from "../../account/temporary-password.ts";
import { formatDateTime } from "../../platform/format.ts";
import { findUserByLogin } from "../../users/users.ts";
import { operator, withServices } from "../context.ts";
import { Refused, noSuchUser, readPassword } from "../io.ts";

/**
 * `famos user set-password LOGIN --temporary [--generate]` (issue 11): the support reset of a
 * forgotten password. Only temporary passwords are set here: the user chooses their own at the next
 * sign-in, so nobody but the user knows the password they keep.
 */
export function userSetPasswordCommand(): Command {
  return new Command("set-password")
    .description("set a temporary password (from standard input, or generated with --generate and printed once); the user chooses a new one at the next sign-in")
    .argument("<login-id>")
    .requiredOption("--temporary", "the password works for one sign-in within FAMOS_TEMP_PASSWORD_TTL (required: FAMOS sets no other kind)")
    .option("--generate", "generate the password and print it once")
    .action(async (loginId: string, options: { temporary: boolean; generate?: boolean }) => {
      await withServices(async ({ deps }) => {
        const user = await findUserByLogin(deps.db, loginId);
        if (!user) throw noSuchUser(loginId);
        const password = options.generate ? generateTemporaryPassword(deps.random) : await readPassword("Temporary password: ");
        const outcome = await setTemporaryPassword(deps, { user: null, audit: operator() }, user.id, password);
        if (outcome.kind === "not-found") throw noSuchUser(loginId);
        // One process per call, no form shown before: nothing to be out of date (the console's rule).
        if (outcome.kind === "stale") throw new Error("a temporary password without a form was found stale");
        if (outcome.kind !== "set") throw new Refused(outcome.message);
        if (options.generate) process.stdout.write(`Temporary password for ${user.login_id}: ${password}\n`);
        const until = formatDateTime(outcome.expiresAt, deps.config.timezone);
        const told = user.otp_email ? `${user.otp_email} is told` : "there is no OTP email to tell";
        process.stdout.write(
          `Set a temporary password for ${user.login_id}, valid for one sign-in until ${until}; ${outcome.sessionsEnded} ${outcome.sessionsEnded === 1 ? "session" : "sessions"} ended; ${told}.\n`,
        );
      });
    });
}
