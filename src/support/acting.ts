import type { ExpressionBuilder, Kysely } from "kysely";
import type { Actor } from "../audit/audit.ts";
import type { Dialect } from "../store/database.ts";
import type { Database } from "../store/schema.ts";
import { findUserById, type User } from "../users/users.ts";

/**
 * Who performs a support action: a signed-in support person or administrator, or the operator at
 * the command line (`user` null), who runs the server and so already holds every key.
 */
export interface Acting {
  user: User | null;
  audit: Actor;
}

export type SupportAction = "view" | "reset" | "unlock" | "role" | "disable" | "password" | "factors";

export type Refusal = {
  kind: "forbidden";
  reason: "no-role" | "own-account" | "admin-account" | "support-account" | "admin-only";
  message: string;
};

const MESSAGES: Record<Refusal["reason"], string> = {
  "no-role": "Your role does not give access to the support console.",
  "own-account": "You cannot reset, unlock or change the role of your own account: ask a colleague.",
  "admin-account": "Only an administrator can reset or unlock an administrator's account.",
  "support-account": "Only an administrator can set a temporary password for a support account.",
  "admin-only": "Only an administrator can change roles.",
};

/** A refusal in the words of the action refused, where it has its own; else MESSAGES'. */
const ACTION_MESSAGES: Partial<Record<SupportAction, Partial<Record<Refusal["reason"], string>>>> = {
  // Issue 13: removing second factors is a reset of the strongest kind; the same rules, in its own words.
  factors: {
    "own-account": "You cannot remove your own second factors: ask a colleague.",
    "admin-account": "Only an administrator can remove an administrator's second factors (never their own).",
    "support-account": "Only an administrator can remove a support account's second factors.",
  },
  // "disable" also decides enabling again (account/disable.ts) and erasing (account/erase.ts).
  disable: {
    "own-account": "You cannot disable, enable or erase your own account: ask a colleague.",
    "admin-account": "Only an administrator can disable, enable or erase an administrator's account.",
    "support-account": "Only an administrator can disable, enable or erase a support account.",
  },
  password: {
    // One's own password needs no colleague: Profile changes it, with the current one (profile/password).
    "own-account": "You cannot set a temporary password for your own account: change your password on the Profile tab.",
    "admin-account": "Only an administrator can set a temporary password for an administrator's account.",
  },
};

/**
 * What support may not do to a peer support account, only an administrator: each would hand the actor
 * the peer's account or take it away. A temporary password, with the reset of its OTP email (which
 * support may do), hands the actor the account and the peer's name on whatever they did next in the
 * audit trail; disabling or erasing locks the peer out until an administrator notices; removing the
 * second factors strips an account that must sign in with a strong factor down to the emailed code.
 * Viewing, resetting the OTP email and unlocking leave the account with the peer.
 */
const ADMIN_ONLY_ON_SUPPORT: ReadonlySet<SupportAction> = new Set<SupportAction>(["password", "disable", "factors"]);

/**
 * The rules of SPEC item 8 and "People", checked by the domain on every action whatever the web
 * layer did (the target comes from the server's own lookup, never from the form): support and admin
 * act on others' accounts, never their own (separation of duties); only admin changes roles; and
 * support does not reset or unlock an administrator, since a reset lets whoever holds the password
 * enrol a new address, which would let support weaken the second factor of the accounts that
 * manage roles. Nor does support set a temporary password for, disable, enable, erase or remove the
 * second factors of another support account (ADMIN_ONLY_ON_SUPPORT): managing the privileged
 * accounts is the administrator's job (SPEC "People": administrators manage users and roles).
 */
export function refusal(by: Acting, target: User, action: SupportAction): Refusal | null {
  const refuse = (reason: Refusal["reason"]): Refusal => ({ kind: "forbidden", reason, message: ACTION_MESSAGES[action]?.[reason] ?? MESSAGES[reason] });
  if (by.user === null) return null;
  if (by.user.role === "user") return refuse("no-role");
  if (action === "view") return null;
  if (by.user.id === target.id) return refuse("own-account");
  if (action === "role") return by.user.role === "admin" ? null : refuse("admin-only");
  if (target.role === "admin" && by.user.role !== "admin") return refuse("admin-account");
  if (target.role === "support" && by.user.role !== "admin" && ADMIN_ONLY_ON_SUPPORT.has(action)) return refuse("support-account");
  return null;
}

/**
 * Creating an account (console, issue 11): support and admin may create staff accounts; an account
 * with a role beyond "user" only an administrator may create, as only an administrator changes roles.
 */
export function creationRefusal(by: Acting, role: User["role"]): Refusal | null {
  if (by.user === null) return null;
  if (by.user.role === "user") return { kind: "forbidden", reason: "no-role", message: MESSAGES["no-role"] };
  if (role !== "user" && by.user.role !== "admin") return { kind: "forbidden", reason: "admin-only", message: "Only an administrator can create support or administrator accounts." };
  return null;
}

/** A console route's role rule (web/auth.ts's `access`): "support" for support and administrators, "admin" for administrators. */
export type ConsoleAccess = "support" | "admin";

/**
 * Who reaches a console page (web/auth.ts, each route's `access`), and the same rule for a write such a
 * page asked for, met again by its person as read in the write's transaction (actingNow): one demoted or
 * disabled since the request's session was read is refused in the same words (rollout/plan-change.ts).
 * Null when allowed; the operator (`user` null) always is.
 */
export function pageRefusal(user: Pick<User, "role"> | null, access: ConsoleAccess): Refusal | null {
  if (user === null) return null;
  const allowed = access === "support" ? user.role !== "user" : user.role === "admin";
  return allowed ? null : { kind: "forbidden", reason: access === "admin" ? "admin-only" : "no-role", message: "Your role does not give access to this page." };
}

/**
 * Who reads an audit record whole — addresses, a forward's mailbox and a relay's words unmasked — where the
 * console gives it out (the CSV export): whoever the administrator's pages let in (pageRefusal "admin"), and
 * the operator, as `famos audit` does; support reads them masked, as support's pages show them
 * (maskedDetail). The role is the one read with the request's session, so a role changed since the last
 * download is the one that counts.
 */
export function readsWholeRecords(user: Pick<User, "role"> | null): boolean {
  return pageRefusal(user, "admin") === null;
}

/**
 * The acting person as they are now, read again inside the action's transaction `tx`. An action that
 * hashes a password first (a temporary password, a new account's first one: tens of milliseconds of
 * argon2id) was asked for by a session read before that; an administrator who demoted or disabled its
 * person in the meantime has taken the right away, as for any later request (NIST SP 800-63B 6.2).
 * A person whose account is disabled or gone acts with no role. The operator stays the operator.
 */
export async function actingNow(tx: Kysely<Database>, by: Acting): Promise<Acting> {
  if (by.user === null) return by;
  const current = await findUserById(tx, by.user.id);
  return { ...by, user: current && current.disabled_at === null ? current : { ...by.user, role: "user" } };
}

/**
 * actingNow for an action on `targetId` that can take an administrator's access away (a role change, a
 * disable, an erasure), whose acting person may be losing theirs at the same moment: two administrators
 * demoting or disabling each other at once were each, by the session read before either wrote, still an
 * administrator, and both actions passed, leaving none. On PostgreSQL it first takes the rows of the
 * actor, the target and every enabled administrator in one statement in the order of their ids (one
 * order, so two such actions wait rather than deadlock); the second waits there for the first to
 * commit, and its reads after it (the actor here, the caller's count of administrators), each a
 * statement begun after that commit at READ COMMITTED, see what the first wrote. FOR NO KEY UPDATE as
 * takeTurnsOn (store/take-turns.ts). SQLite's one writer already runs the two one after the other.
 */
export async function actingNowTakingTurns(tx: Kysely<Database>, dialect: Dialect, by: Acting, targetId: string): Promise<Acting> {
  await administratorsTakingTurns(tx, dialect, by.user === null ? [targetId] : [targetId, by.user.id]);
  return actingNow(tx, by);
}

/**
 * On PostgreSQL, takes the rows of every enabled administrator and of `ids`, in one statement in the
 * order of their ids: the one lock order of every writer that can take an administrator's access away
 * (actingNowTakingTurns; `famos user import --update` demoting one, support/import-users.ts), which each
 * takes before any other row, so two of them wait for each other rather than deadlock, and the second
 * counts the administrators (lastAdminRefusal) after the first's commit. No-op on SQLite (one writer).
 */
export async function administratorsTakingTurns(tx: Kysely<Database>, dialect: Dialect, ids: readonly string[] = []): Promise<void> {
  if (dialect !== "postgres") return;
  const admins = (eb: ExpressionBuilder<Database, "users">) => eb.and([eb("role", "=", "admin"), eb("disabled_at", "is", null)]);
  await tx
    .selectFrom("users")
    .select("id")
    .where((eb) => (ids.length > 0 ? eb.or([eb("id", "in", ids), admins(eb)]) : admins(eb)))
    .orderBy("id")
    .forNoKeyUpdate()
    .execute();
}
