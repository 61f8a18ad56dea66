import { Argument, Command } from "commander";
import { changeRole, LAST_ADMIN } from "../../support/roles.ts";
import { findUserByLogin, ROLES } from "../../users/users.ts";
import { operator, withServices } from "../context.ts";
import { Refused, noSuchUser } from "../io.ts";

export function userRoleCommand(): Command {
  return new Command("role")
    .description("give a user the role user, support or admin (audited as role.changed)")
    .argument("<login-id>")
    .addArgument(new Argument("<role>", "user, support or admin").choices(ROLES as string[]))
    .action(async (loginId: string, role: string) => {
      await withServices(async ({ deps }) => {
        const user = await findUserByLogin(deps.db, loginId);
        if (!user) throw noSuchUser(loginId);
        const outcome = await changeRole(deps, { user: null, audit: operator() }, user, role);
        if (outcome.kind === "not-found") throw noSuchUser(loginId);
        if (outcome.kind === "forbidden") throw new Refused(outcome.message);
        if (outcome.kind === "last-admin") throw new Refused(LAST_ADMIN);
        if (outcome.kind === "unknown-role") throw new Refused(`"${role}" is not a role: use user, support or admin`);
        process.stdout.write(
          outcome.kind === "unchanged" ? `${user.login_id} already has the role ${outcome.role}.\n` : `${user.login_id}: role ${outcome.from} → ${outcome.to}.\n`,
        );
      });
    });
}
