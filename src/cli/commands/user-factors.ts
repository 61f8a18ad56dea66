import { terminalJson } from "../../platform/terminal-text.ts";
import { Command } from "commander";
import { factorsOf } from "../../strong-factors/factors.ts";
import { REMOVAL_TEXT } from "../../strong-factors/messages.ts";
import { removeSecondFactors } from "../../support/remove-factors.ts";
import { findUserByLogin } from "../../users/users.ts";
import { factorsText } from "../../web/pages/support-factor-pages.ts";
import { translator } from "../../i18n/translator.ts";
import { operator, withServices } from "../context.ts";
import { Refused, noSuchUser } from "../io.ts";

/** `famos user factors LOGIN [--remove]` (issue 13): which second factors a user has, and their removal. */
export function userFactorsCommand(): Command {
  return new Command("factors")
    .description("list a user's passkeys, authenticator app and recovery codes; --remove deletes them all (audited, the user is told)")
    .argument("<login-id>")
    .option("--remove", "remove the passkeys, the authenticator app and the recovery codes, and sign the user out")
    .option("--ticket <reference>", "the ticket of the request, kept in the audit event")
    .option("--json", "print one JSON object")
    .action(async (loginId: string, options: { remove?: boolean; ticket?: string; json?: boolean }) => {
      await withServices(async ({ deps }) => {
        const user = await findUserByLogin(deps.db, loginId);
        if (!user) throw noSuchUser(loginId);
        if (options.remove) {
          const outcome = await removeSecondFactors(deps, { user: null, audit: operator() }, user.id, options.ticket);
          if (outcome.kind === "not-found") throw noSuchUser(loginId);
          if (outcome.kind === "forbidden" || outcome.kind === "ticket") throw new Refused(outcome.message);
          const { removed } = outcome;
          const nothing = removed.passkeys === 0 && !removed.app && removed.recoveryCodes === 0;
          if (options.json) process.stdout.write(terminalJson({ loginId: user.login_id, removed, sessionsEnded: outcome.sessionsEnded }) + "\n");
          else process.stdout.write(`${user.login_id}: ${nothing ? REMOVAL_TEXT.nothing : REMOVAL_TEXT.done}\n`);
          return;
        }
        const factors = await factorsOf(deps.db, user.id);
        if (options.json) process.stdout.write(terminalJson({ loginId: user.login_id, ...factors }) + "\n");
        else process.stdout.write(`${user.login_id}: ${factorsText(translator("en-GB", deps.config.timezone), factors)}\n`);
      });
    });
}
