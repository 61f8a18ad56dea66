import { Command } from "commander";
import { userAddCommand } from "./user-add.ts";
import { userImportCommand } from "./user-import.ts";
import { userResetEmailCommand } from "./user-reset-email.ts";
import { userRoleCommand } from "./user-role.ts";
import { userShowCommand } from "./user-show.ts";
import { userUnlockCommand } from "./user-unlock.ts";
import { userDeleteCommand } from "./user-delete.ts";
import { userDisableCommand, userEnableCommand } from "./user-disable.ts";
import { userSetPasswordCommand } from "./user-set-password.ts";
import { userFactorsCommand } from "./user-factors.ts";

export function userCommand(): Command {
  return new Command("user")
    .description("manage FAMOS users")
    .addCommand(userAddCommand())
    .addCommand(userImportCommand())
    .addCommand(userShowCommand())
    .addCommand(userResetEmailCommand())
    .addCommand(userUnlockCommand())
    .addCommand(userRoleCommand())
    .addCommand(userSetPasswordCommand())
    .addCommand(userDisableCommand())
    .addCommand(userEnableCommand())
    .addCommand(userDeleteCommand())
    .addCommand(userFactorsCommand());
}
