import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type AuditEntry } from "../audit/audit.ts";
import { checkSecondFactor, type SecondFactorCheck } from "../factors/check-second-factor.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { requireFreshProof, type FreshProof } from "../profile/reauthenticate.ts";
import { inLiveSession, type SignedOut } from "../session/live-session.ts";
import { type Session } from "../session/sessions.ts";
import { advanceSession, newFactorChange, passwordOnly, type IssuedSession } from "../session/session-steps.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { appFactor, pendingApp, startAppSetup } from "./authenticator-app.ts";
import { factorsOf, hasStrongFactor, markStrongFactors } from "./factors.ts";
import { tellFactorChange } from "./factor-notice.ts";
import { issueRecoveryCodes } from "./recovery-codes.ts";
import { normaliseTotp } from "./totp.ts";

type Refused = Exclude<FreshProof, { kind: "ok" }>;

/**
 * A set of ten recovery codes replacing any old one, audited with what brought it (a new strong
 * factor: the app's confirming code, passkeyBrings; or the user's request), in the caller's transaction.
 */
async function newRecoveryCodes(tx: Kysely<Database>, deps: Deps, user: User, ctx: RequestContext, now: number, by: "app" | "passkey" | "request"): Promise<string[]> {
  const { codes } = await issueRecoveryCodes(tx, deps, user.id);
  await auditAs(user, ctx, now)(tx, { event: "recovery-codes.issued", detail: { with: by } });
  return codes;
}

/**
 * A new strong factor's session: a new token, past the setup screen when it was there (the app's
 * confirming code, passkeyBrings). A session the password alone opened (before its wave, or "Later":
 * no code verified in it) has just proved the new factor in it, so it becomes a two-factor session
 * (verifiedAt, its end verifiedSessionEnd), as a code verified early makes it (profile/email-change.ts):
 * passwordOnlyOutlived and the wave's start no longer concern it. Before, it ended at its next
 * request, its user signed out for having done what the wave asks (strong-factor-before-wave.test).
 */
const toFull = (tx: Kysely<Database>, deps: Deps, session: Session, now: number) =>
  advanceSession(tx, deps.random, session, now, newFactorChange(session, now, deps.config.session, session.flow_id));

function auditAs(user: User, ctx: RequestContext, now: number) {
  return (db: Deps["db"], entry: Pick<AuditEntry, "event" | "detail">) =>
    recordAudit(db, now, { ...entry, actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent });
}

/**
 * The proof a change of factors needs, the one rule of the app, its recovery codes and the passkeys
 * (passkeys/registration.ts, removal.ts): on Profile a fresh re-authentication (requireFreshProof); on
 * the setup screen none more, since that session has confirmed its code and reaches nothing else (its
 * page has no password field: a passkey asked there after 15 minutes was refused, the app was not).
 */
export function factorChangeProof(deps: Deps, user: User, session: Session, password: string | null, ctx: RequestContext): Promise<FreshProof> {
  if (session.stage === "factor-setup") return Promise.resolve({ kind: "ok" });
  return requireFreshProof(deps, user, session, password, ctx, "factor-change");
}

/** "Set up authenticator app": a new secret, shown next as a QR code and as text. */
export async function beginAppSetup(
  deps: Deps,
  user: User,
  session: Session,
  password: string | null,
  ctx: RequestContext,
): Promise<{ kind: "started" } | { kind: "exists" } | SignedOut | Refused> {
  const fresh = await factorChangeProof(deps, user, session, password, ctx);
  if (fresh.kind !== "ok") return fresh;
  return startAppSetup(deps, user, session, ctx);
}

export type ConfirmSetupOutcome =
  /** The app counts from now; `token` is the session's new one (null: it ended meanwhile). */
  | { kind: "added"; token: string; session: Session; recoveryCodes: string[] }
  | Exclude<SecondFactorCheck<never, { kind: "wrong" }>, { kind: "ok" }>
  | { kind: "malformed" }
  /** No app of this session waits for its first code: nothing to guess against, so no try is counted. */
  | { kind: "none" };

/**
 * The setup's confirming code, through the rules of every second factor (wrong codes count toward
 * the code lock). In one transaction: the app is confirmed, ten recovery codes replace any old set,
 * and the session gets a new token — leaving the setup screen for the portal when it was there.
 */
export async function confirmAppSetup(deps: Deps, user: User, session: Session, typed: string, ctx: RequestContext): Promise<ConfirmSetupOutcome> {
  const code = normaliseTotp(typed);
  if (code === null) return { kind: "malformed" };
  if (!(await pendingApp(deps, user, session))) return { kind: "none" };
  const check = await checkSecondFactor(deps, user, appFactor(deps, user, code, { setupBy: session }), ctx, async (tx, now) => {
    await markStrongFactors(tx, user.id, now);
    await tellFactorChange(tx, deps, user, now, { what: "app-added" });
    const codes = await newRecoveryCodes(tx, deps, user, ctx, now, "app");
    const advanced = await toFull(tx, deps, session, now);
    return advanced ? { ...advanced, codes } : null;
  });
  if (check.kind !== "ok") return check;
  deps.mailQueued();
  deps.metrics.strongFactorChanges.inc({ factor: "app", change: "added" });
  return { kind: "added", token: check.value.token, session: check.value.session, recoveryCodes: check.value.codes };
}

/** Profile → "Remove" the authenticator app (or cancel its setup): its codes stop working at once. */
export async function removeApp(deps: Deps, user: User, session: Session, password: string | null, ctx: RequestContext): Promise<{ kind: "removed" } | { kind: "none" } | SignedOut | Refused> {
  const fresh = await factorChangeProof(deps, user, session, password, ctx);
  if (fresh.kind !== "ok") return fresh;
  const now = deps.clock.now();
  const removed = await inLiveSession(deps, user, session, async (tx) => {
    const row = await tx.deleteFrom("authenticator_apps").where("user_id", "=", user.id).returning("confirmed_at").executeTakeFirst();
    if (row) await auditAs(user, ctx, now)(tx, { event: "app.removed", detail: { confirmed: row.confirmed_at !== null } });
    if (row?.confirmed_at != null) {
      await markStrongFactors(tx, user.id, now);
      await tellFactorChange(tx, deps, user, now, { what: "app-removed" });
    }
    return row !== undefined;
  });
  if ("kind" in removed) return removed;
  if (!removed.value) return { kind: "none" };
  deps.mailQueued();
  deps.metrics.strongFactorChanges.inc({ factor: "app", change: "removed" });
  return { kind: "removed" };
}

/** Profile → "Generate new recovery codes": a fresh set of ten; the old set stops working. */
export async function renewRecoveryCodes(
  deps: Deps,
  user: User,
  session: Session,
  password: string | null,
  ctx: RequestContext,
): Promise<{ kind: "renewed"; recoveryCodes: string[] } | { kind: "no-strong-factor" } | SignedOut | Refused> {
  if (!hasStrongFactor(await factorsOf(deps.db, user.id))) return { kind: "no-strong-factor" };
  const fresh = await factorChangeProof(deps, user, session, password, ctx);
  if (fresh.kind !== "ok") return fresh;
  const now = deps.clock.now();
  const renewed = await inLiveSession(deps, user, session, async (tx) => {
    await tellFactorChange(tx, deps, user, now, { what: "recovery-codes-renewed" });
    return newRecoveryCodes(tx, deps, user, ctx, now, "request");
  });
  if ("kind" in renewed) return renewed;
  deps.mailQueued();
  deps.metrics.strongFactorChanges.inc({ factor: "recovery-codes", change: "renewed" });
  return { kind: "renewed", recoveryCodes: renewed.value };
}

export interface PasskeyBrought {
  /** The new recovery codes, shown once: the first strong factor brings them (null: the user has a set). */
  recoveryCodes: string[] | null;
  /** The session, full, and its new token when the setup screen ended or a password-only session proved the passkey (null: the session stays as it was). */
  renewed: IssuedSession | null;
}

/**
 * What a passkey brings, run by the passkeys module (finishPasskeyRegistration) in the transaction
 * that stores it, after the user's row was taken (inLiveSession): a user without recovery codes gets a
 * set, as the authenticator app's setup gives one; on the setup screen of FAMOS_STRONG_FACTOR_ROLES the
 * session leaves that stage for the portal with a new token, and a password-only session becomes a
 * two-factor one with a new token (toFull). A failure here keeps the passkey neither.
 */
export async function passkeyBrings(tx: Kysely<Database>, deps: Deps, user: User, session: Session, ctx: RequestContext, now: number): Promise<PasskeyBrought> {
  const { recoveryCodesLeft } = await factorsOf(tx, user.id);
  const recoveryCodes = recoveryCodesLeft === 0 ? await newRecoveryCodes(tx, deps, user, ctx, now, "passkey") : null;
  const advanced = session.stage === "factor-setup" || passwordOnly(session) ? await toFull(tx, deps, session, now) : null;
  return { recoveryCodes, renewed: advanced };
}
