import { Command } from "commander";
import { formatDateTime } from "../../platform/format.ts";
import { loginLockInfo } from "../../regulation/throttle.ts";
import { findUserByLogin } from "../../users/users.ts";
import { accessText } from "../../account/access.ts";
import { withServices } from "../context.ts";
import { Refused } from "../io.ts";

export function userShowCommand(): Command {
  return new Command("show")
    .description("show a user's details, enrolment and lock state")
    .argument("<login-id>")
    .option("--json", "print one JSON object")
    .action(async (loginId: string, options: { json?: boolean }) => {
      await withServices(async ({ deps }) => {
        const user = await findUserByLogin(deps.db, loginId);
        if (!user) throw new Refused(`no user has login ID "${loginId}"`);
        const lock = await loginLockInfo(deps.db, user.login_key, deps.clock.now());
        const tz = deps.config.timezone;
        const enrolment = user.otp_email ? "confirmed" : user.pending_email ? "pending" : "none";
        const facts = {
          loginId: user.login_id,
          name: user.full_name,
          partnerNumber: user.partner_number,
          role: user.role,
          enrolment,
          otpEmail: user.otp_email,
          pendingEmail: user.pending_email,
          locked: lock.locked,
          lockedUntil: lock.lockedUntil === null ? null : new Date(lock.lockedUntil).toISOString(),
          permanentLock: lock.hardLocked,
          passwordFailures: lock.passwordFailures,
          codeFailures: lock.codeFailures,
          lastSignIn: user.last_sign_in_at === null ? null : new Date(user.last_sign_in_at).toISOString(),
          created: new Date(user.created_at).toISOString(),
          disabled: user.disabled_at === null ? null : new Date(user.disabled_at).toISOString(),
          temporaryPasswordUntil: user.password_temporary_until ? new Date(user.password_temporary_until).toISOString() : null,
        };
        if (options.json) {
          process.stdout.write(JSON.stringify(facts) + "\n");
          return;
        }
        const lines = [
          ["Login ID", user.login_id],
          ["Name", user.full_name],
          ["Partner number", user.partner_number],
          ["Role", user.role],
          ["OTP email", user.otp_email ?? "none"],
          ["Enrolment", enrolment + (user.pending_email ? ` (waiting for a code to ${user.pending_email})` : "")],
          ["Lock", lock.hardLocked ? "locked until unlocked by support" : lock.lockedUntil ? `locked until ${formatDateTime(lock.lockedUntil, tz)}` : "not locked"],
          ["Failures", `${lock.passwordFailures} password, ${lock.codeFailures} code`],
          ["Last sign-in", user.last_sign_in_at ? formatDateTime(user.last_sign_in_at, tz) : "never"],
          ["Access", accessText(user, tz)],
        ];
        process.stdout.write(lines.map(([k, v]) => `${k!.padEnd(15)} ${v}`).join("\n") + "\n");
      });
    });
}
