import type { AuthenticatorTransport, PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { randomId } from "../platform/random.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { FreshProof } from "../profile/reauthenticate.ts";
import { factorChangeProof } from "../strong-factors/manage.ts";
import { inLiveSession, type SignedOut } from "../session/live-session.ts";
import type { Session } from "../session/sessions.ts";
import type { Database } from "../store/schema.ts";
import { hasControlCharacters, hasInvisibleCharacters } from "../users/fields.ts";
import type { User } from "../users/users.ts";
import { CHALLENGE_TTL_MS, consumeChallenge, issueChallenge } from "./challenges.ts";
import { parseRegistrationJson } from "./credential-json.ts";
import { PASSKEY_TEXT } from "./messages.ts";
import { markStrongFactors } from "../strong-factors/factors.ts";
import { tellFactorChange } from "../strong-factors/factor-notice.ts";
import { userPasskeys, type PasskeySummary } from "./passkeys.ts";
import { RP_NAME, type RelyingParty } from "./relying-party.ts";
import { webauthn } from "./webauthn.ts";

export const MAX_PASSKEY_NAME = 64;
/** More than anyone needs; keeps one account from filling the table. */
export const MAX_PASSKEYS = 10;

/** WebAuthn "required": the authenticator must check who holds it (PIN, biometrics), which makes a passkey two factors in one (NIST SP 800-63B 5.1.8). */
export const USER_VERIFICATION = "required" as const;

export type NameProblem = { kind: "invalid"; message: string };

export type StartOutcome = { kind: "options"; options: PublicKeyCredentialCreationOptionsJSON } | NameProblem | Exclude<FreshProof, { kind: "ok" }>;

/**
 * The passkey's name, as Profile lists it and the factor-change mail quotes it: tabs and line breaks
 * are spaces; any other control character, or an invisible format character (users/fields.ts's
 * rule for login IDs and names), is refused: a U+202E would reverse the mail's words after it.
 */
function checkName(typed: string): { ok: true; name: string } | NameProblem {
  const name = typed.trim().replace(/\s+/g, " ");
  if (name === "") return { kind: "invalid", message: PASSKEY_TEXT.nameMissing };
  if ([...name].length > MAX_PASSKEY_NAME) return { kind: "invalid", message: PASSKEY_TEXT.nameTooLong };
  if (hasControlCharacters(name) || hasInvisibleCharacters(name)) return { kind: "invalid", message: PASSKEY_TEXT.nameHidden };
  return { ok: true, name };
}

/**
 * "Add a passkey", first half: after a fresh proof (a recent code or the password, ASVS 3.7.1) the
 * browser gets creation options with a challenge bound to this session. The challenge is the only
 * carrier of that proof to the second half, so it is short-lived and single-use.
 */
export async function startPasskeyRegistration(
  deps: Deps,
  user: User,
  session: Session,
  input: { name: string; password: string | null },
  rp: RelyingParty,
  ctx: RequestContext,
): Promise<StartOutcome> {
  const named = checkName(input.name);
  if (!("ok" in named)) return named;
  const existing = await userPasskeys(deps.db, user.id);
  if (existing.length >= MAX_PASSKEYS) return { kind: "invalid", message: PASSKEY_TEXT.tooMany(MAX_PASSKEYS) };
  const proof = await factorChangeProof(deps, user, session, input.password, ctx);
  if (proof.kind !== "ok") return proof;
  const now = deps.clock.now();
  const challenge = await issueChallenge(deps, session.id, "register", now);
  const { generateRegistrationOptions, isoBase64URL, isoUint8Array } = await webauthn();
  const options = await generateRegistrationOptions({
    rpName: RP_NAME,
    rpID: rp.rpId,
    // The user handle is FAMOS's random account id, never the login ID or a name (WebAuthn §14.6.1).
    userID: isoUint8Array.fromUTF8String(user.id),
    userName: user.login_id,
    userDisplayName: user.full_name,
    challenge: isoBase64URL.toBuffer(challenge),
    timeout: CHALLENGE_TTL_MS,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: transportsOf(p.transports) })),
    authenticatorSelection: { residentKey: "preferred", userVerification: USER_VERIFICATION },
  });
  return { kind: "options", options };
}

export type FinishOutcome<Brought = undefined> =
  /** `brought`: what the caller's step gave, committed with the passkey (undefined without a step). */
  | { kind: "added"; passkey: PasskeySummary; brought: Brought }
  | NameProblem
  | { kind: "no-credential" }
  | { kind: "refused"; reason: "not-verified" | "invalid" | "already-added" }
  /** Not added: this session ended while its passkey was being verified. The user signs in again. */
  | SignedOut;

/**
 * "Add a passkey", second half: the browser's attestation, checked against this session's
 * unexpired, unused challenge, FAMOS's origin and RP ID, with user verification; then stored with
 * its signature counter and backup flags, and audited. `brings`, when given, is what the passkey brings
 * with it (a first strong factor's recovery codes and the end of the setup screen: strong-factors'
 * passkeyBrings): it runs in the transaction that stores the passkey, after its audit line, so a
 * failure anywhere in it keeps nothing and the same passkey can be added again.
 */
export async function finishPasskeyRegistration<Brought = undefined>(
  deps: Deps,
  user: User,
  session: Session,
  input: { name: string; credential: string },
  rp: RelyingParty,
  ctx: RequestContext,
  brings?: (tx: Kysely<Database>, now: number) => Promise<Brought>,
): Promise<FinishOutcome<Brought>> {
  const named = checkName(input.name);
  if (!("ok" in named)) return named;
  const response = parseRegistrationJson(input.credential);
  if (!response) return { kind: "no-credential" };
  const now = deps.clock.now();
  const { verifyRegistrationResponse, isoBase64URL } = await webauthn();
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: (challenge) => consumeChallenge(deps.db, session.id, "register", challenge, now),
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
    });
  } catch (error) {
    const reason = /user verification/i.test(String(error)) ? "not-verified" : "invalid";
    await audit(deps, user, ctx, now, "passkey.add-failed", { result: reason, why: String((error as Error)?.message ?? error).slice(0, 200) });
    return { kind: "refused", reason };
  }
  // A signed attestation ("packed" and the like) whose signature does not verify: the library answers
  // instead of throwing, and it is as invalid an answer as any other, audited alike.
  if (!verified.verified) {
    await audit(deps, user, ctx, now, "passkey.add-failed", { result: "invalid", why: "the attestation statement did not verify" });
    return { kind: "refused", reason: "invalid" };
  }
  const info = verified.registrationInfo;
  const row = {
    id: randomId(deps.random),
    user_id: user.id,
    credential_id: info.credential.id,
    public_key: isoBase64URL.fromBuffer(info.credential.publicKey),
    sign_count: info.credential.counter,
    transports: info.credential.transports?.join(",") || null,
    device_type: info.credentialDeviceType,
    backed_up: info.credentialBackedUp ? 1 : 0,
    name: named.name,
    created_at: now,
    last_used_at: null,
  };
  // The session was loaded with the request, before the verification: one ended since (by its user
  // from another browser, by support) stores nothing, or its holder would keep a way in for good.
  const added = await inLiveSession(deps, user, session, async (tx) => {
    // One statement decides, so two registrations of one credential at once (two instances on
    // PostgreSQL, where both would read "not taken" first) end as one passkey and "already added".
    const inserted = await tx.insertInto("passkeys").values(row).onConflict((oc) => oc.column("credential_id").doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return { added: false as const };
    await markStrongFactors(tx, user.id, now);
    await audit(tx, user, ctx, now, "passkey.added", { name: row.name, deviceType: row.device_type, backedUp: row.backed_up === 1 });
    await tellFactorChange(tx, deps, user, now, { what: "passkey-added", name: row.name });
    return { added: true as const, brought: brings ? await brings(tx, now) : (undefined as Brought) };
  });
  if ("kind" in added) return added;
  if (!added.value.added) return { kind: "refused", reason: "already-added" };
  deps.mailQueued();
  deps.metrics.passkeysAdded.inc();
  return { kind: "added", passkey: { id: row.id, name: row.name, createdAt: now, lastUsedAt: null, backedUp: row.backed_up === 1 }, brought: added.value.brought };
}

export function transportsOf(stored: string | null): AuthenticatorTransport[] | undefined {
  return stored ? (stored.split(",") as AuthenticatorTransport[]) : undefined;
}

function audit(db: Deps | Deps["db"], user: User, ctx: RequestContext, now: number, event: "passkey.added" | "passkey.add-failed", detail: Record<string, string | number | boolean | null>) {
  const target = "db" in db ? db.db : db;
  return recordAudit(target, now, { event, actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail });
}
