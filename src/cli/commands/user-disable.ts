import { Command } from "commander";
import { disableUser, enableUser } from "../../account/disable.ts";
import { disableEndedText } from "../../account/messages.ts";
import { translator } from "../../i18n/translator.ts";
import { LAST_ADMIN } from "../../support/roles.ts";
import { findUserByLogin } from "../../users/users.ts";
import { operator, withServices } from "../context.ts";
import { Refused, noSuchUser } from "../io.ts";

/** `famos user disable|enable LOGIN` (issue 11): a leaver's account, kept with its history. */
export function userDisableCommand(): Command {
  return new Command("disable")
    .description("stop a user from signing in (a leaver): sessions end and pending codes are voided at once, and the counts are printed")
    .argument("<login-id>")
    .action((loginId: string) => run(loginId, true));
}

export function userEnableCommand(): Command {
  return new Command("enable")
    .description("let a disabled user sign in again")
    .argument("<login-id>")
    .action((loginId: string) => run(loginId, false));
}

async function run(loginId: string, disable: boolean): Promise<void> {
  await withServices(async ({ deps }) => {
    const user = await findUserByLogin(deps.db, loginId);
    if (!user) throw noSuchUser(loginId);
    const by = { user: null, audit: operator() };
    const outcome = disable ? await disableUser(deps, by, user.id) : await enableUser(deps, by, user.id);
    switch (outcome.kind) {
      case "not-found":
        throw noSuchUser(loginId);
      case "forbidden":
        throw new Refused(outcome.message);
      case "last-admin":
        throw new Refused(LAST_ADMIN);
      case "unchanged":
        process.stdout.write(
          outcome.kept === true
            ? `${user.login_id} was disabled by partner ${user.sync_disabled_partner ?? ""}'s import --sync; now kept disabled: no import enables them again.\n`
            : `${user.login_id} was already ${disable ? "disabled" : "enabled"}; nothing was changed.\n`,
        );
        return;
      case "disabled":
        process.stdout.write(`Disabled ${user.login_id}: ${disableEndedText(translator("en-GB", deps.config.timezone), outcome)}.\n`);
        return;
      case "enabled": {
        const shared = outcome.sharedWith > 0 ? `${translator("en-GB", deps.config.timezone).text("console.done.enabledShared")}\n` : "";
        process.stdout.write(`Enabled ${user.login_id}: they can sign in again.\n${shared}`);
      }
    }
  });
}
