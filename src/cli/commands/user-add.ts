import { Command, Option } from "commander";
import { recordAudit } from "../../audit/audit.ts";
import { checkEmailEntry } from "../../enrolment/email-rules.ts";
import { hashPassword } from "../../password/hash.ts";
import { checkNewPassword } from "../../password/policy.ts";
import { createUser, findUserByLogin, ROLES, type Role } from "../../users/users.ts";
import { operator, withServices } from "../context.ts";
import { readPassword, Refused } from "../io.ts";
import { checkUserFields } from "../user-fields.ts";

export function userAddCommand(): Command {
  return new Command("add")
    .description("add a user; the password is read from standard input, or asked twice on a terminal")
    .argument("<login-id>", "the login ID the user signs in with")
    .requiredOption("--name <full name>", "the user's full name")
    .requiredOption("--partner <number>", "the retailer's partner number")
    .addOption(new Option("--role <role>", "user, support or admin").choices(ROLES as string[]).default("user"))
    .option("--email <otp email>", "the user's OTP email, taken as confirmed (no enrolment at first sign-in)")
    .action(async (loginId: string, options: { name: string; partner: string; role: Role; email?: string }) => {
      checkUserFields({ loginId, fullName: options.name, partnerNumber: options.partner });
      await withServices(async ({ deps }) => {
        const email = options.email === undefined ? null : checkedEmail(options.email, deps.config.enrolment);
        const exists = () => new Refused(`a user with login ID "${loginId}" already exists`);
        // Asked before the password, so nobody types one for nothing; createUser decides in the end.
        if (await findUserByLogin(deps.db, loginId)) throw exists();
        const password = await readPassword();
        const policy = checkNewPassword(password, { loginId, name: options.name });
        if (!policy.ok) throw new Refused(policy.message);
        const now = deps.clock.now();
        const fields = { loginId, fullName: options.name, partnerNumber: options.partner, role: options.role, passwordHash: await hashPassword(password), otpEmail: email };
        const user = await deps.db.transaction().execute(async (tx) => {
          const created = await createUser(tx, deps.keys, deps.random, now, fields);
          if (created) await recordAudit(tx, now, { ...operator(), event: "user.created", subject: created.login_id, detail: { role: created.role, emailGiven: email !== null } });
          return created;
        });
        // Another add or an import of this login ID read it free at the same instant and wrote first.
        if (!user) throw exists();
        process.stdout.write(`Added ${user.login_id} (${user.role})${email ? `, OTP email ${email}` : "; the OTP email is entered at first sign-in"}.\n`);
      }, { createsDatabase: true });
    });
}

function checkedEmail(email: string, policy: Parameters<typeof checkEmailEntry>[1]): string {
  // The operator vouches for the address, so the shared-mailbox warning does not stop it.
  const check = checkEmailEntry({ email, confirmEmail: email, ownMailbox: true }, { ...policy, sharedMailboxPolicy: "off" });
  if (!check.ok) throw new Refused(`--email: ${check.message}`);
  return check.email;
}
