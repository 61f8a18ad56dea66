import { Command } from "commander";
import { resetOtpEmail, type ResetOutcome } from "../../support/reset-email.ts";
import { findUserByLogin } from "../../users/users.ts";
import { operator, withServices } from "../context.ts";
import { Refused, noSuchUser } from "../io.ts";

/**
 * The guide's "OTP email reset" from the command line: the same domain operation as the console's
 * (src/support/reset-email.ts), so the same three fields must match and the same things happen.
 */
export function userResetEmailCommand(): Command {
  return new Command("reset-email")
    .description("reset a user's OTP email (the name, login ID and partner number from the request must match the account); the user enrols again at the next sign-in")
    .argument("<login-id>", "the login ID from the request")
    .requiredOption("--name <full name>", "the full name from the request (case and runs of spaces ignored)")
    .requiredOption("--partner <number>", "the partner number from the request (leading zeros count)")
    .requiredOption("--ticket <ref>", "the support ticket reference, kept in the audit trail")
    .action(async (loginId: string, options: { name: string; partner: string; ticket: string }) => {
      await withServices(async ({ deps }) => {
        const user = await findUserByLogin(deps.db, loginId);
        if (!user) throw noSuchUser(loginId);
        const outcome = await resetOtpEmail(deps, { user: null, audit: operator() }, user.id, {
          name: options.name,
          loginId,
          partnerNumber: options.partner,
          ticket: options.ticket,
        });
        if (outcome.kind === "not-found") throw noSuchUser(loginId);
        if (outcome.kind !== "reset") throw new Refused(everyProblem(outcome).replace(/^The /, "the "));
        const told = outcome.previousEmail ? `; ${outcome.previousEmail} is told of the reset` : "; there was no confirmed address to tell";
        process.stdout.write(
          `Reset the OTP email of ${outcome.user.login_id} (ticket ${options.ticket.trim()}): ${outcome.sessionsEnded} ${outcome.sessionsEnded === 1 ? "session" : "sessions"} ended, codes voided${told}.\n` +
            `At the next sign-in ${outcome.user.login_id} enters an email address again.\n`,
        );
      });
    });
}

/**
 * The refusal in one line, with the ticket's own problem beside the fields that do not match (the
 * console says both beside their fields): fixing the name and running it again only to hear of the
 * ticket then would be one round too many.
 */
function everyProblem(outcome: Exclude<ResetOutcome, { kind: "reset" | "not-found" }>): string {
  if (outcome.kind !== "mismatch" || outcome.ticketProblem === undefined) return outcome.message;
  return outcome.message.replace(/(does|do) not match the account\. /, (sentence) => `${sentence}${outcome.ticketProblem!} `);
}
