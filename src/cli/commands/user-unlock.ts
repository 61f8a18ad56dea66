import { Command } from "commander";
import { unlockAccount } from "../../support/unlock.ts";
import { findUserByLogin } from "../../users/users.ts";
import { operator, withServices } from "../context.ts";
import { Refused, noSuchUser } from "../io.ts";

export function userUnlockCommand(): Command {
  return new Command("unlock")
    .description(
      "clear a login ID's failure counts and locks (the permanent one after too many wrong codes included), " +
        "those of its known browsers (device cookies), and the self-service password reset's",
    )
    .argument("<login-id>")
    .action(async (loginId: string) => {
      await withServices(async ({ deps }) => {
        const user = await findUserByLogin(deps.db, loginId);
        if (!user) throw noSuchUser(loginId);
        const outcome = await unlockAccount(deps, { user: null, audit: operator() }, user);
        if (outcome.kind === "forbidden") throw new Refused(outcome.message);
        process.stdout.write(outcome.wasLocked ? `Unlocked ${user.login_id}.\n` : `${user.login_id} was not locked; its failure counts are cleared.\n`);
      });
    });
}
