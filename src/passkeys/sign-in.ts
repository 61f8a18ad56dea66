import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { checkSecondFactor, type FactorVerdict, type SecondFactorCheck } from "../factors/check-second-factor.ts";
import { voidFlowCodes } from "../otp/codes.ts";
import { finishFlow, sessionFlow, type Flow } from "../otp/flows.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Session } from "../session/sessions.ts";
import { finishSignIn, signedInOutcome, type SignedInOutcome } from "../signin/code-step.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { CHALLENGE_TTL_MS, consumeChallenge, issueChallenge } from "./challenges.ts";
import { parseAuthenticationJson } from "./credential-json.ts";
import { findUserPasskey, userPasskeys, type Passkey } from "./passkeys.ts";
import { transportsOf, USER_VERIFICATION } from "./registration.ts";
import type { RelyingParty } from "./relying-party.ts";
import { webauthn, type WebAuthn } from "./webauthn.ts";

/** Why an assertion was refused. Each counts toward the same lock as a wrong code. */
export type PasskeyFailure = {
  kind: "refused";
  reason: "unknown-passkey" | "not-verified" | "counter-regressed" | "backup-eligibility-changed" | "invalid";
};

export type PasskeySignIn = SignedInOutcome | Exclude<SecondFactorCheck<never, PasskeyFailure>, { kind: "ok" }> | { kind: "malformed" } | { kind: "void" };

/**
 * The sign-in flow a passkey may finish: a sign-in's, not an enrolment's (a passkey proves nothing
 * about a new address) and not one already finished.
 */
async function signInFlow(deps: Deps, session: Session, loaded?: Flow | null): Promise<Flow | null> {
  const flow = await sessionFlow(deps.db, session.flow_id, loaded);
  return flow && passkeyMayFinish(flow) ? flow : null;
}

function passkeyMayFinish(flow: Flow): boolean {
  return flow.kind === "signin" && flow.finished_at === null;
}

/**
 * Whether "OTP capture" offers "Use a passkey instead" for the session's flow, as the page read it:
 * to a user who has a passkey (the page's choices, otpChoices, count them; issue 17: not read twice).
 */
export function passkeyOffered(flow: Flow | undefined): boolean {
  return flow !== undefined && passkeyMayFinish(flow);
}

/** "Use a passkey instead", first half: request options for the user's passkeys, with a challenge bound to this session. */
export async function passkeySignInOptions(deps: Deps, user: User, session: Session, rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
  if (!(await signInFlow(deps, session))) return null;
  const passkeys = await userPasskeys(deps.db, user.id);
  if (passkeys.length === 0) return null;
  const challenge = await issueChallenge(deps, session.id, "signin", deps.clock.now());
  const { generateAuthenticationOptions, isoBase64URL } = await webauthn();
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge: isoBase64URL.toBuffer(challenge),
    timeout: CHALLENGE_TTL_MS,
    userVerification: USER_VERIFICATION,
    allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: transportsOf(p.transports) })),
  });
}

/**
 * "Use a passkey instead", second half: the assertion is the second factor, through the rules every
 * second factor shares (checkSecondFactor: pause, count, audit, lock notice). It must answer this
 * session's unused challenge, come from FAMOS's origin, be signed over its RP ID by one of the user's
 * passkeys with user verification (WebAuthn Level 3 §7.2), and its signature counter must have
 * moved on (§6.1.1: a counter that goes back suggests a cloned authenticator) and its backup
 * eligibility be what it was at registration (§6.1.3: the BE flag never changes). A success
 * finishes the sign-in exactly as a code does (finishSignIn) and voids the flow's emailed code.
 * `loaded`: the session's flow as POST /otp/passkey read it with the session (`flow: true`), as confirmCode's.
 */
export async function confirmPasskey(deps: Deps, user: User, session: Session, credential: string, rp: RelyingParty, ctx: RequestContext, loaded?: Flow | null): Promise<PasskeySignIn> {
  const flow = await signInFlow(deps, session, loaded);
  if (!flow) return { kind: "void" };
  const response = parseAuthenticationJson(credential);
  if (!response) return { kind: "malformed" };

  let used: { passkey: Passkey; counter: number; backedUp: boolean } | null = null;
  const finish = finishSignIn(deps, user, session, flow, ctx);
  const check = await checkSecondFactor<Awaited<ReturnType<typeof finish>> & object, PasskeyFailure>(
    deps,
    user,
    {
      verify: async (now) => {
        const verdict = await verifyAssertion(deps, user, session, response, rp, now);
        if (verdict.kind === "ok") used = verdict.used;
        return verdict.kind === "ok" ? { kind: "ok" } : verdict;
      },
      // The counter moved under us (the same passkey used twice at once): the proof counts as used,
      // neither confirmed nor a guess, and neither sign-in is given by it.
      consume: async (tx, now) => {
        if (!(await recordUse(tx, used!, now))) return "used";
        await finishFlow(tx, flow.id, now);
        await voidFlowCodes(tx, flow.id, "passkey", now);
        return "consumed";
      },
      failed: (failure) => ({
        event: failure.reason === "counter-regressed" ? "passkey.counter-regressed" : "passkey.failed",
        detail: { result: failure.reason, credential: response.id.slice(0, 64) },
      }),
      get confirmed() {
        return { event: "passkey.confirmed" as const, detail: { name: used?.passkey.name ?? null, backedUp: used?.backedUp ?? null } };
      },
      metrics: { failed: () => deps.metrics.passkeyAssertions.inc({ outcome: "failed" }), confirmed: () => deps.metrics.passkeyAssertions.inc({ outcome: "confirmed" }) },
    },
    ctx,
    finish,
  );
  deps.metrics.signIns.inc({ outcome: `passkey-${check.kind === "refused" ? check.reason : check.kind}` });
  if (check.kind !== "ok") return check;
  return signedInOutcome(check.value, flow);
}

type AssertionVerdict = { kind: "ok"; used: { passkey: Passkey; counter: number; backedUp: boolean } } | Exclude<FactorVerdict<PasskeyFailure>, { kind: "ok" }>;

async function verifyAssertion(deps: Deps, user: User, session: Session, response: AuthenticationResponseJSON, rp: RelyingParty, now: number): Promise<AssertionVerdict> {
  const lib = await webauthn();
  const passkey = await findUserPasskey(deps.db, user.id, response.id);
  // Even a stranger's credential uses this session's challenge up: every answer gets one try.
  if (!passkey) {
    await consumeAnsweredChallenge(lib, deps, session, response, now);
    return { kind: "refused", reason: "unknown-passkey" };
  }
  const stored = Number(passkey.sign_count);
  let result;
  try {
    result = await lib.verifyAuthenticationResponse({
      response,
      expectedChallenge: (challenge) => consumeChallenge(deps.db, session.id, "signin", challenge, now),
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      credential: { id: passkey.credential_id, publicKey: lib.isoBase64URL.toBuffer(passkey.public_key), counter: stored, transports: transportsOf(passkey.transports) },
      requireUserVerification: true,
    });
  } catch {
    return { kind: "refused", reason: explainRefusal(lib, response, stored) };
  }
  if (!result.verified) return { kind: "refused", reason: "invalid" };
  const info = result.authenticationInfo;
  if (info.credentialDeviceType !== passkey.device_type) return { kind: "refused", reason: "backup-eligibility-changed" };
  return { kind: "ok", used: { passkey, counter: info.newCounter, backedUp: info.credentialBackedUp } };
}

/** Which rule refused an assertion the library rejected, for the audit line and the page. */
function explainRefusal({ parseAuthenticatorData, isoBase64URL }: WebAuthn, response: AuthenticationResponseJSON, stored: number): PasskeyFailure["reason"] {
  try {
    const data = parseAuthenticatorData(isoBase64URL.toBuffer(response.response.authenticatorData));
    if (!data.flags.uv) return "not-verified";
    const counter = data.counter ?? 0;
    if ((counter > 0 || stored > 0) && counter <= stored) return "counter-regressed";
  } catch {
    // Not even authenticator data: plainly invalid.
  }
  return "invalid";
}

async function consumeAnsweredChallenge({ isoBase64URL }: WebAuthn, deps: Deps, session: Session, response: AuthenticationResponseJSON, now: number): Promise<void> {
  try {
    const client = JSON.parse(isoBase64URL.toUTF8String(response.response.clientDataJSON)) as { challenge?: unknown };
    if (typeof client.challenge === "string") await consumeChallenge(deps.db, session.id, "signin", client.challenge, now);
  } catch {
    // Unreadable client data: there is no challenge to use up.
  }
}

/**
 * Stores the new counter, backup state and time of use — only if the counter is still the one the
 * assertion was checked against (one conditional UPDATE, STYLE rule 12): two assertions racing
 * cannot both move it.
 */
async function recordUse(tx: Kysely<Database>, use: { passkey: Passkey; counter: number; backedUp: boolean }, now: number): Promise<boolean> {
  const result = await tx
    .updateTable("passkeys")
    .set({ sign_count: use.counter, backed_up: use.backedUp ? 1 : 0, last_used_at: now })
    .where("id", "=", use.passkey.id)
    .where("sign_count", "=", use.passkey.sign_count)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
