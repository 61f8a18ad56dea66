import type { Kysely } from "kysely";
import type { Config } from "../config/config.ts";
import type { Stage } from "../session/sessions.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { factorsOf, hasStrongFactor, type FactorSummary } from "./factors.ts";

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
  return emailCodeAllowed(config, user, () => factorsOf(db, user.id));
}

/** The rule itself. The factors are read only for those roles: nobody else's can take the code away (issue 17). */
async function emailCodeAllowed(config: Readonly<Config>, user: User, factors: () => Promise<FactorSummary>): Promise<boolean> {
  return !strongFactorRequired(config, user) || !hasStrongFactor(await factors());
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

/**
 * Whether a sign-in completed by a passkey, an app or a recovery code goes on to "User profile": its user
 * has no OTP email (the password step asked for that factor first: passwordStep), and the emailed code
 * is their way in (not FAMOS_STRONG_FACTOR_ROLES, who need none). The address is then confirmed by a
 * code sent to it, as every first enrolment (finishSignIn, then the enrolment's own code).
 */
export function addressToEnrol(config: Readonly<Config>, user: Pick<User, "role" | "otp_email">, flowKind: string): boolean {
  return flowKind === "signin" && !user.otp_email && !strongFactorRequired(config, user);
}

/** What OTP capture offers this user: the emailed code (or not), the app, recovery codes, passkeys. */
export async function secondStepOptions(db: Kysely<Database>, config: Readonly<Config>, user: User) {
  const factors = await factorsOf(db, user.id);
  const emailCode = await emailCodeAllowed(config, user, async () => factors);
  return { emailCode, app: factors.app !== null, recovery: factors.recoveryCodesLeft > 0, passkeys: factors.passkeys };
}
