import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { userFieldProblems } from "../users/fields.ts";
import { checkEmailEntry } from "../enrolment/email-rules.ts";
import { hashPassword } from "../password/hash.ts";
import { actingNow, creationRefusal, type Acting, type Refusal } from "../support/acting.ts";
import { createUser, findUserByLogin, ROLES, type Role, type User } from "../users/users.ts";
import { generateTemporaryPassword } from "./temporary-password.ts";

export interface NewAccount {
  loginId: string;
  fullName: string;
  partnerNumber: string;
  role: string;
  /** Empty: the user enters one at the first sign-in. */
  email: string;
}

/** A field of "Create a user" that breaks its rule, with the rule's sentence ("The login ID must be …."). */
export interface AccountProblem {
  field: keyof NewAccount;
  message: string;
}

export type CreateOutcome =
  | { kind: "created"; user: User; password: string; expiresAt: number }
  /** Every field that is wrong, in the form's order: the page says them all at once. */
  | { kind: "invalid"; problems: AccountProblem[] }
  | { kind: "exists" }
  | Refusal;

/**
 * "Create a user" in the console (issue 11): the fields of `famos user add`, and a generated
 * temporary first password shown once to the support person, so the user chooses their own at the
 * first sign-in and nobody else ever knows it.
 */
export async function createAccount(deps: Deps, by: Acting, input: NewAccount): Promise<CreateOutcome> {
  const role = (ROLES as readonly string[]).includes(input.role) ? (input.role as Role) : null;
  if (role) {
    const refused = creationRefusal(by, role);
    if (refused) return refused;
  }
  const problems: AccountProblem[] = userFieldProblems(input).map((p) => ({ field: p.field, message: `${p.message[0]!.toUpperCase()}${p.message.slice(1)}.` }));
  if (!role) problems.push({ field: "role", message: "Choose the role user, support or admin." });
  let email: string | null = null;
  if (input.email.trim() !== "") {
    // Support vouches for the address as the operator does with `user add --email`.
    const check = checkEmailEntry({ email: input.email, confirmEmail: input.email, ownMailbox: true }, { ...deps.config.enrolment, sharedMailboxPolicy: "off" });
    if (check.ok) email = check.email;
    else problems.push({ field: "email", message: check.message });
  }
  if (problems.length > 0 || !role) return { kind: "invalid", problems };
  if (await findUserByLogin(deps.db, input.loginId)) return { kind: "exists" };

  const password = generateTemporaryPassword(deps.random);
  const hash = await hashPassword(password);
  const now = deps.clock.now();
  const expiresAt = now + deps.config.lifecycle.temporaryPasswordTtlMs;
  const fields = { loginId: input.loginId, fullName: input.fullName, partnerNumber: input.partnerNumber, role, passwordHash: hash, otpEmail: email, passwordTemporaryUntil: expiresAt };
  return deps.db.transaction().execute(async (tx) => {
    // The acting person's role again, as it is now: it may have changed while hashing (actingNow).
    const refusedNow = creationRefusal(await actingNow(tx, by), role);
    if (refusedNow) return refusedNow;
    const created = await createUser(tx, deps.keys, deps.random, now, fields);
    if (!created) return { kind: "exists" as const };
    await recordAudit(tx, now, { ...by.audit, event: "user.created", subject: created.login_id, detail: { role, emailGiven: email !== null, source: "console" } });
    return { kind: "created" as const, user: created, password, expiresAt };
  });
}
