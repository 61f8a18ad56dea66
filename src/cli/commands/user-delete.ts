import { Command } from "commander";
import { eraseUser } from "../../account/erase.ts";
import { LAST_ADMIN } from "../../support/roles.ts";
import { findUserByLogin } from "../../users/users.ts";
import { operator, withServices } from "../context.ts";
import { Refused, noSuchUser } from "../io.ts";

/** `famos user delete LOGIN --erase` (issue 11): the account goes, its audit events stay under a pseudonym. */
export function userDeleteCommand(): Command {
  return new Command("delete")
    .description("delete a user and replace their personal data in the audit trail with a pseudonym (the events are kept)")
    .argument("<login-id>")
    .requiredOption("--erase", "required: says that the account and its personal data go for good")
    .action(async (loginId: string) => {
      await withServices(async ({ deps }) => {
        const user = await findUserByLogin(deps.db, loginId);
        if (!user) throw noSuchUser(loginId);
        const outcome = await eraseUser(deps, { user: null, audit: operator() }, user.id);
        if (outcome.kind === "not-found") throw noSuchUser(loginId);
        if (outcome.kind === "forbidden") throw new Refused(outcome.message);
        if (outcome.kind === "last-admin") throw new Refused(LAST_ADMIN);
        process.stdout.write(`Deleted ${outcome.loginId}; ${outcome.events} audit ${outcome.events === 1 ? "event is" : "events are"} kept under the pseudonym ${outcome.pseudonym}.\n`);
      });
    });
}
