import type { Kysely } from "kysely";
import type { Config } from "../config/config.ts";
import type { Stage } from "../session/sessions.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { factorsOf, hasStrongFactor } from "./factors.ts";

/**
 * FAMOS_STRONG_FACTOR_ROLES: support and admin can reset anyone's enrolment, so their accounts are
 * the ones worth phishing. An emailed code is not an AAL2 authenticator (NIST SP 800-63B 5.1.3.3:
 * email is not an out-of-band channel); for these roles a passkey or an authenticator app is required.
 */
export function strongFactorRequired(config: Readonly<Config>, user: Pick<User, "role">): boolean {
  return config.strongFactorRoles.includes(user.role);
}

/**
 * Whether the emailed code may complete this user's sign-in: not for a user of those roles who has a
 * strong factor. The one home of the rule: the password step (no code is sent), Confirm, Regenerate
 * and enrolment all ask here.
 */
export async function emailCodeSignsIn(db: Kysely<Database>, config: Readonly<Config>, user: User): Promise<boolean> {
  return (await secondStepOptions(db, config, user)).emailCode;
}

/**
 * The stage a session reaches once its second factor is confirmed: a user of those roles without a
 * strong factor sets one up first ("factor-setup", which leads nowhere else), in the confirming
 * transaction so the check and the stage agree.
 */
export async function stageOnceVerified(db: Kysely<Database>, config: Readonly<Config>, user: User, stage: Stage): Promise<Stage> {
  if (stage !== "full" || !strongFactorRequired(config, user)) return stage;
  return hasStrongFactor(await factorsOf(db, user.id)) ? "full" : "factor-setup";
}

/** What OTP capture offers this user: the emailed code (or not), the app, recovery codes, passkeys. */
export async function secondStepOptions(db: Kysely<Database>, config: Readonly<Config>, user: User) {
  const factors = await factorsOf(db, user.id);
  const emailCode = !strongFactorRequired(config, user) || !hasStrongFactor(factors);
  return { emailCode, app: factors.app !== null, recovery: factors.recoveryCodesLeft > 0, passkeys: factors.passkeys };
}
