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
        if (await findUserByLogin(deps.db, loginId)) throw new Refused(`a user with login ID "${loginId}" already exists`);
        const password = await readPassword();
        const policy = checkNewPassword(password, { loginId, name: options.name });
        if (!policy.ok) throw new Refused(policy.message);
        const now = deps.clock.now();
        const user = await createUser(deps.db, deps.random, now, {
          loginId,
          fullName: options.name,
          partnerNumber: options.partner,
          role: options.role,
          passwordHash: await hashPassword(password),
          otpEmail: email,
        });
        await recordAudit(deps.db, now, { ...operator(), event: "user.created", subject: user.login_id, detail: { role: user.role, emailGiven: email !== null } });
        process.stdout.write(`Added ${user.login_id} (${user.role})${email ? `, OTP email ${email}` : "; the OTP email is entered at first sign-in"}.\n`);
      });
    });
}

function checkedEmail(email: string, policy: Parameters<typeof checkEmailEntry>[1]): string {
  // The operator vouches for the address, so the shared-mailbox warning does not stop it.
  const check = checkEmailEntry({ email, confirmEmail: email, ownMailbox: true }, { ...policy, sharedMailboxPolicy: "off" });
  if (!check.ok) throw new Refused(`--email: ${check.message}`);
  return check.email;
}
