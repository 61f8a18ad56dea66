import { Command } from "commander";
import { formatDateTime } from "../../platform/format.ts";
import { accountLockInfo } from "../../regulation/locks.ts";
import { findUserByLogin } from "../../users/users.ts";
import { accessText } from "../../account/access.ts";
import { translator } from "../../i18n/translator.ts";
import { addressProblems } from "../../bounce/addresses.ts";
import { terminalJson, terminalText } from "../../platform/terminal-text.ts";
import { withServices } from "../context.ts";
import { noSuchUser } from "../io.ts";
import { pauseOverBy } from "../../regulation/pause-end.ts";
import type { Deps } from "../../app/deps.ts";
import { waitingAddress } from "../../profile/waiting-address.ts";

export function userShowCommand(): Command {
  return new Command("show")
    .description("show a user's details, enrolment and lock state")
    .argument("<login-id>")
    .option("--json", "print one JSON object")
    .action(async (loginId: string, options: { json?: boolean }) => {
      await withServices(({ deps }) => showUser(deps, loginId, options, (text) => process.stdout.write(text)));
    });
}

/** What `famos user show` prints, read with `deps` (its clock included) and written with `write`. */
export async function showUser(deps: Deps, loginId: string, options: { json?: boolean }, write: (text: string) => void): Promise<void> {
  const user = await findUserByLogin(deps.db, loginId);
  if (!user) throw noSuchUser(loginId);
  const lock = await accountLockInfo(deps, user.login_key, deps.clock.now());
  const tz = deps.config.timezone;
  const now = deps.clock.now();
  const bounces = user.otp_email ? await addressProblems(deps.db, user.otp_email) : null;
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  const enrolment = user.otp_email ? "confirmed" : user.pending_email ? "pending" : "none";
  // An enrolment's address as stored; a Profile change's only while it can still be confirmed.
  const pending = await waitingAddress(deps, user);
  const facts = {
    loginId: user.login_id,
    name: user.full_name,
    partnerNumber: user.partner_number,
    role: user.role,
    enrolment,
    otpEmail: user.otp_email,
    pendingEmail: pending,
    locked: lock.locked,
    lockedUntil: lock.lockedUntil === null ? null : new Date(lock.lockedUntil).toISOString(),
    permanentLock: lock.hardLocked,
    // Browsers that completed a sign-in and have failures counted against them (device cookies).
    devices: lock.devices.map((d) => ({ device: d.deviceId, failures: d.failures, lockedUntil: iso(d.lockedUntil), permanentLock: d.hardLocked })),
    // What the receiving mail servers said about the OTP email (issue 15); null: nothing wrong known.
    mail: bounces && {
      undeliverableSince: iso(bounces.undeliverableAt),
      undeliverableReason: bounces.undeliverableReason,
      delays: bounces.softBounces,
      lastDelay: iso(bounces.lastSoftBounceAt),
    },
    passwordFailures: lock.passwordFailures,
    codeFailures: lock.codeFailures,
    // The self-service reset's own lock (FAMOS_PASSWORD_RESET=self): it refuses the reset alone.
    resetFailures: lock.reset.failures,
    resetLocked: lock.reset.locked,
    resetLockedUntil: lock.reset.locked ? iso(lock.reset.until) : null,
    lastSignIn: user.last_sign_in_at === null ? null : new Date(user.last_sign_in_at).toISOString(),
    created: new Date(user.created_at).toISOString(),
    disabled: user.disabled_at === null ? null : new Date(user.disabled_at).toISOString(),
    temporaryPasswordUntil: (user.password_temporary_until ?? 0) > 0 ? new Date(user.password_temporary_until!).toISOString() : null,
  };
  if (options.json) {
    write(terminalJson(facts) + "\n");
    return;
  }
  const lines = [
    ["Login ID", user.login_id],
    ["Name", user.full_name],
    ["Partner number", user.partner_number],
    ["Role", user.role],
    ["OTP email", user.otp_email ?? "none"],
    ["Enrolment", enrolment + (pending ? ` (waiting for a code to ${pending})` : "")],
    ["Lock", lock.hardLocked ? "locked until unlocked by support" : lock.lockedUntil ? `locked until ${formatDateTime(pauseOverBy(lock.lockedUntil), tz)}` : "not locked"],
    ["Failures", `${lock.passwordFailures} password, ${lock.codeFailures} code`],
    ...(lock.reset.failures > 0 || lock.reset.locked
      ? [
          [
            "Password reset",
            `${lock.reset.failures} wrong ${lock.reset.failures === 1 ? "code" : "codes"}` +
              (!lock.reset.locked ? ", not locked" : lock.reset.until === null ? ", locked until unlocked by support" : `, locked until ${formatDateTime(pauseOverBy(lock.reset.until), tz)}`),
          ],
        ]
      : []),
    ...lock.devices.map((d) => [
      "Device lock",
      `browser ${d.deviceId.slice(0, 8)}: ${d.failures} failed ${d.failures === 1 ? "try" : "tries"}` +
        (d.hardLocked ? ", locked until unlocked by support" : d.lockedUntil !== null && d.lockedUntil > now ? `, locked until ${formatDateTime(pauseOverBy(d.lockedUntil), tz)}` : ", not locked"),
    ]),
    ...(bounces?.undeliverableAt ? [["Mail", `undeliverable since ${formatDateTime(bounces.undeliverableAt, tz)}: ${bounces.undeliverableReason ?? "no reason given"}`]] : []),
    ...(bounces?.softBounces ? [["Mail delays", `${bounces.softBounces}, the last at ${formatDateTime(bounces.lastSoftBounceAt ?? now, tz)}`]] : []),
    ["Last sign-in", user.last_sign_in_at ? formatDateTime(user.last_sign_in_at, tz) : "never"],
    ["Access", accessText(translator("en-GB", tz), user, now)],
  ];
  write(lines.map(([k, v]) => terminalText(`${k!.padEnd(15)} ${v}`)).join("\n") + "\n");
}
