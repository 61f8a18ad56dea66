import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { SecondFactor } from "../factors/check-second-factor.ts";
import { inLiveSession, type SignedOut } from "../session/live-session.ts";
import type { Session } from "../session/sessions.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { User } from "../users/users.ts";
import { appSealed } from "./previous-secret.ts";
import { openUnderKeys, sealSecret } from "./secret-box.ts";
import { newTotpSecret, totpUri, verifyTotp } from "./totp.ts";

type AppFailure = { kind: "wrong" };

/**
 * A new secret waiting for its first code (Profile or the setup screen). One app per user: a
 * confirmed one must be removed first; an unconfirmed one is replaced, so only the newest QR code works.
 * It belongs to the session that started it, after that session's fresh proof (ASVS 3.7.1): only
 * that session reads its key and confirms it, as a passkey's challenge is bound to its session. Any
 * other session of the user (one left open on a shared computer, a stolen cookie) would otherwise
 * read the key and confirm it, and be shown the new recovery codes, without ever proving anything.
 * Audited ("app.setup-started") in the same transaction: a start is never answered 503 after it was kept.
 */
export async function startAppSetup(deps: Deps, user: User, session: Pick<Session, "id">, ctx: RequestContext): Promise<{ kind: "started" } | { kind: "exists" } | SignedOut> {
  const now = deps.clock.now();
  const sealed = sealSecret(deps.keys.totpSecret, deps.random, user.id, newTotpSecret(deps.random));
  // Two setups at once (a double submit) take turns on the user's row: the later one replaces the
  // earlier, as it would later on. A session ended since the request loaded it (its fresh proof's
  // argon2id came between: a support reset, a disable) starts nothing (inLiveSession).
  const started = await inLiveSession(deps, user, session, async (tx) => {
    await tx.deleteFrom("authenticator_apps").where("user_id", "=", user.id).where("confirmed_at", "is", null).execute();
    const inserted = await tx
      .insertInto("authenticator_apps")
      .values({ user_id: user.id, secret: sealed, created_at: now, confirmed_at: null, last_step: null, last_used_at: null, setup_session_id: session.id })
      .onConflict((oc) => oc.column("user_id").doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return { kind: "exists" as const };
    await recordAudit(tx, now, { event: "app.setup-started", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: {} });
    // Sealed under this instance's FAMOS_SECRET: a start's "all under another key" is forgotten (a rolling
    // change of it). Last: key_fingerprints is the last table a request writes (SecondFactor.lastly).
    await appSealed(tx, deps.keys);
    return { kind: "started" as const };
  });
  return "value" in started ? started.value : started;
}

/** The secret of the app this session is setting up, as text and as the otpauth:// URI its QR code carries; null when none waits. */
export async function pendingApp(deps: Deps, user: User, session: Pick<Session, "id">): Promise<{ secret: string; uri: string } | null> {
  const row = await deps.db
    .selectFrom("authenticator_apps")
    .select("secret")
    .where("user_id", "=", user.id)
    .where("confirmed_at", "is", null)
    .where("setup_session_id", "=", session.id)
    .executeTakeFirst();
  const opened = row ? openUnderKeys(deps.keys, deps.random, user.id, row.secret) : null;
  return opened === null ? null : { secret: opened.secret, uri: totpUri(opened.secret, user.login_id) };
}

/**
 * An authenticator-app code as a second factor (checkSecondFactor): at sign-in against the confirmed
 * app, at setup against the one waiting for its first code. A code of a step at or below the last one
 * accepted is "used" (RFC 6238 §5.2); the step is stored with a conditional write, so two requests
 * with one code cannot both win; the setup's write also confirms the app.
 */
export function appFactor(deps: Deps, user: User, code: string, use: "signin" | { setupBy: Pick<Session, "id"> }): SecondFactor<AppFailure> {
  let step = 0;
  // Sealed under FAMOS_SECRET_PREVIOUS's key: the stored value, and the same secret sealed under FAMOS_SECRET's.
  let reseal: { from: string; to: string } | null = null;
  // Whether this request's consume kept it under the new key (not `famos reseal` or another instance first).
  let resealed = false;
  const confirmed = use === "signin";
  // At setup, only the app this session started (see startAppSetup).
  const setupSession = use === "signin" ? null : use.setupBy.id;
  return {
    async verify(now) {
      const row = await deps.db
        .selectFrom("authenticator_apps")
        .select(["secret", "last_step"])
        .where("user_id", "=", user.id)
        .where("confirmed_at", confirmed ? "is not" : "is", null)
        .$if(setupSession !== null, (qb) => qb.where("setup_session_id", "=", setupSession))
        .executeTakeFirst();
      const opened = row ? openUnderKeys(deps.keys, deps.random, user.id, row.secret) : null;
      if (!row || opened === null) return { kind: "wrong" };
      if (opened.resealed !== null) reseal = { from: row.secret, to: opened.resealed };
      const verdict = await verifyTotp(opened.secret, code, now, row.last_step === null ? null : Number(row.last_step));
      if (verdict.kind === "ok") step = verdict.step;
      return verdict.kind === "ok" ? { kind: "ok" } : verdict;
    },
    async consume(tx, now) {
      const stored = await tx
        .updateTable("authenticator_apps")
        .set({ last_step: step, last_used_at: now, ...(confirmed ? {} : { confirmed_at: now }) })
        .where("user_id", "=", user.id)
        .where("confirmed_at", confirmed ? "is not" : "is", null)
        .$if(setupSession !== null, (qb) => qb.where("setup_session_id", "=", setupSession))
        .where((eb) => eb.or([eb("last_step", "is", null), eb("last_step", "<", step)]))
        .executeTakeFirst();
      if (Number(stored.numUpdatedRows) !== 1) return "used";
      // Used under the old key: kept under the new one (unless `famos reseal` or another instance did it first).
      if (reseal) {
        const kept = await tx.updateTable("authenticator_apps").set({ secret: reseal.to }).where("user_id", "=", user.id).where("secret", "=", reseal.from).executeTakeFirst();
        resealed = Number(kept.numUpdatedRows) === 1;
      }
      return "consumed";
    },
    // Sealed under this instance's key: a start's fingerprint of another key is forgotten, last (see lastly).
    lastly: async (tx) => {
      if (resealed) await appSealed(tx, deps.keys);
    },
    failed: () => ({ event: "app.failed", detail: { during: confirmed ? "signin" : "setup" } }),
    confirmed: { event: confirmed ? "app.confirmed" : "app.added", detail: {} },
    reused: { event: "app.reused", detail: { during: confirmed ? "signin" : "setup" } },
    tellReuse: "app",
    metrics: {
      failed: () => deps.metrics.strongFactorChecks.inc({ factor: "app", outcome: "failed" }),
      confirmed: () => {
        deps.metrics.strongFactorChecks.inc({ factor: "app", outcome: "ok" });
        // Counted once committed under the new key: a wrong code, or a write another got to first, is no read of it.
        if (resealed) deps.metrics.previousSecretReads.inc({ what: "app" });
      },
    },
  };
}

/** Whether the user has a confirmed app (sign-in offers "Use authenticator app"). */
export async function hasApp(deps: Deps, userId: string): Promise<boolean> {
  const row = await deps.db.selectFrom("authenticator_apps").select("user_id").where("user_id", "=", userId).where("confirmed_at", "is not", null).executeTakeFirst();
  return row !== undefined;
}
