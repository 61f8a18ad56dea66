import { userTranslator } from "../i18n/translator.ts";
import type { Deps } from "../app/deps.ts";
import { endAccessForNewPassword, sameAccess, signInBarred } from "../account/access.ts";
import { passwordResetMail } from "../account/messages.ts";
import { recordAudit } from "../audit/audit.ts";
import { normaliseTypedCode } from "../otp/code.ts";
import { issueCode, matchCode } from "../otp/codes.ts";
import { codeRefusedLine, typedCodeVerdict, type CodeGuess } from "../otp/code-verdict.ts";
import { createFlow, findFlow, finishFlow } from "../otp/flows.ts";
import { hashPassword } from "../password/hash.ts";
import { randomId } from "../platform/random.ts";
import { checkChosenPassword } from "../profile/password-change.ts";
import { attemptSucceeded, attemptVoid, lockToldOnceRight, loginIdPaused, reserveAttempt } from "../regulation/throttle.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { loginDigest, typedLoginSubject } from "../users/login-digest.ts";
import { findUserById, findUserByLogin, findUserTakingTurns, loginKey, setOrdinaryPassword } from "../users/users.ts";
import { codeQueued } from "../factors/send-code.ts";
import { refuseProof } from "../factors/check-second-factor.ts";
import { codeReusedLine } from "../factors/code-reuse.ts";

/** What the browser keeps (in a signed cookie) between the two steps: the same shape for every login ID. */
export interface ResetState {
  flowId: string;
  loginKey: string;
}

/**
 * "Forgot password?" step 1, FAMOS_PASSWORD_RESET=self (issue 11), the answer: a state of the same
 * shape for every login ID, its flow named now, at random, whether or not one will be made. It reads
 * nothing: the answer goes before anything is read or written about the login ID, so neither its
 * content nor its time tells whether an account exists (ASVS 2.5.x, 3.x: no enumeration). The work
 * for the account follows the answer: sendResetCode.
 */
export function resetState(deps: Deps, loginId: string): ResetState {
  return { flowId: randomId(deps.random), loginKey: loginKey(loginId).slice(0, 128) };
}

/**
 * Step 1's work, after the answer (web/after-reply.ts): a code to the confirmed OTP email, in the flow
 * `state` named, under the sign-in's caps and locks. Nothing is written and no mail sent for an
 * unknown or disabled login ID, one without a confirmed address, or one any lock of whose reset,
 * password or code counter holds (loginIdPaused: a code could not be used while it does).
 */
export async function sendResetCode(deps: Deps, state: ResetState, ctx: RequestContext): Promise<void> {
  const now = deps.clock.now();
  const key = state.loginKey;
  if (key === "") return;
  const [paused, user] = await Promise.all([loginIdPaused(deps.db, "reset", loginDigest(deps.keys, key), now, deps.config), findUserByLogin(deps.db, key)]);
  if (paused || !user || signInBarred(user, now) || !user.otp_email) return;
  const email = user.otp_email;
  const issued = await deps.db.transaction().execute(async (tx) => {
    // The account as it is now, its row taken first: an OTP email reset or a disable committed since
    // it was read voided every code, and a code made now would go, live, to the address support just
    // removed. Such a change stops the request, as any other refusal does (sameAccess).
    const current = await findUserTakingTurns(tx, deps.dialect, user.id);
    if (!current || !sameAccess(user, current)) return null;
    const flow = await createFlow(tx, deps.random, { id: state.flowId, userId: user.id, kind: "password-reset", email, now });
    const outcome = await issueCode(deps, tx, flow, user.login_id, now, ctx, user);
    await recordAudit(tx, now, { event: "password.reset-requested", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { code: outcome.kind } });
    return outcome;
  });
  // The one way a code's mail goes out after its commit: counted, and handed to SMTP (send-code.ts).
  if (issued) codeQueued(deps, issued);
}

export type ResetOutcome =
  | { kind: "reset" }
  | { kind: "invalid"; message: string }
  /** Wrong, expired, void or used: one answer, since telling them apart would tell who exists. */
  | { kind: "code-refused" }
  | { kind: "locked"; until: number | null };

/**
 * Step 2: the code and the new password twice. The code is checked by the sign-in's own functions
 * (matchCode and spendCode, one verdict by typedCodeVerdict, what follows it by refuseProof, and the
 * regulation's reserve, fail and clear); a wrong one counts on the
 * login ID's reset counter and the address's, and the sign-in's locks of the login ID refuse it too.
 * The right one sets the password, ends every session and pending code and the device cookies of
 * other browsers than this one, and tells the OTP email;
 * the user then signs in as usual, with a fresh code.
 */
export async function completePasswordReset(
  deps: Deps,
  state: ResetState,
  input: { code: string; newPassword: string; confirmNewPassword: string },
  ctx: RequestContext,
): Promise<ResetOutcome> {
  const now = deps.clock.now();
  // Counted under the login ID's digest, never the text typed (src/users/login-digest.ts).
  const digest = loginDigest(deps.keys, state.loginKey);
  const subject = { loginKey: digest, ip: ctx.ip };
  const flow = await findFlow(deps.db, state.flowId);
  const user = flow && flow.kind === "password-reset" && flow.finished_at === null ? await findUserById(deps.db, flow.user_id) : undefined;
  // The password rules that need no account first: a typo there costs no guess against the lock. The
  // account's own name waits for the right code: checked before it, it would tell who exists.
  const invalid = checkChosenPassword({ login_id: state.loginKey, full_name: "" }, input.newPassword, input.confirmNewPassword);
  if (invalid) return { kind: "invalid", message: invalid.message };
  // Counted before the code is checked, in the statement that checks the limit, on the reset's own
  // counter: this step needs no password, and a stranger's wrong codes here must not lock the owner's
  // sign-in (src/regulation/throttle.ts, FailureKind).
  const reservation = await reserveAttempt(deps.db, "reset", subject, now, deps.config);
  if (!reservation.ok) return { kind: "locked", until: reservation.pause.until };

  const code = normaliseTypedCode(input.code);
  const match = flow && user && code !== null && user.login_key === state.loginKey && !signInBarred(user, now) ? await matchCode(deps, flow.id, code, now) : null;
  if (match?.kind === "match" && user) {
    // The sign-in locked by wrong codes (until support unlocks, or paused): said to the code's holder alone (lockToldOnceRight).
    const told = lockToldOnceRight(reservation);
    if (told) {
      await attemptVoid(deps.db, reservation);
      return { kind: "locked", until: told.until };
    }
    // The code's holder: told the password is their name, the code left unused and the try given back.
    const named = checkChosenPassword(user, input.newPassword, input.confirmNewPassword);
    if (named) {
      await attemptVoid(deps.db, reservation);
      return { kind: "invalid", message: named.message };
    }
  }
  // One verdict for the code typed (typedCodeVerdict), and one home of what follows each kind (refuseProof):
  // the used code again, audited as the emailed code's reuse everywhere is (codeReusedLine); another code
  // after the use, or the right code voided before its use: refused, no line, nothing counted; a guess:
  // counted on the reset's counter, with its line, as sign-in writes it (codeRefusedLine: code.expired or
  // code.failed). "ok" comes from a match, so with both.
  const finished = flow?.kind === "password-reset" && flow.finished_at !== null ? flow.id : null;
  const verdict = await typedCodeVerdict(deps, { match, finished, typed: code }, now);
  if (verdict.kind !== "ok" || !flow || !user) {
    // The trail keeps the login ID typed only when an account has it, else its digest: looked up for a line
    // refuseProof writes, and only then ("spent" and "voided" write none, and need the flow's code anyway,
    // so they tell nothing of who exists; every refusal a stranger can cause writes its line and reads it).
    const who = async () => {
      const hasAccount = user?.login_key === state.loginKey || (await findUserByLogin(deps.db, state.loginKey)) !== undefined;
      const login = typedLoginSubject(deps.keys, state.loginKey, hasAccount, digest);
      return { actor: login, subject: login, ip: ctx.ip, userAgent: ctx.userAgent };
    };
    await refuseProof<CodeGuess>(deps, reservation, now, verdict.kind === "ok" ? { kind: "no-code" } : verdict, {
      reuse: async () => ({ audit: { ...(await who()), ...codeReusedLine({ kind: "password-reset" }) } }),
      guess: async (failure) => ({ entry: { ...(await who()), ...codeRefusedLine(failure, "password-reset") }, user }),
      counted: () => deps.metrics.codesFailed.inc(),
    });
    return { kind: "code-refused" };
  }

  const hash = await hashPassword(input.newPassword);
  const settled = await deps.db.transaction().execute(async (tx) => {
    // The account as it is now, its row taken first (the one order of locks, store/take-turns.ts). It
    // was read, and the code used up, before the hash, tens of milliseconds ago: a disable, a temporary
    // password or an OTP email reset committed since would have voided the code of a reset that came a
    // moment later, so it holds for this one too, and nothing is written (sameAccess).
    const current = await findUserTakingTurns(tx, deps.dialect, user.id);
    if (!current || !sameAccess(user, current)) return false;
    await setOrdinaryPassword(tx, user.id, hash, now);
    await finishFlow(tx, flow.id, now);
    const told = { kind: "notice.password-reset", recipient: flow.email, mail: () => passwordResetMail({ loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail }) } as const;
    const ended = await endAccessForNewPassword(deps, tx, user, now, "password-reset", told, { deviceTokens: ctx.deviceTokens });
    await attemptSucceeded(tx, reservation);
    await recordAudit(tx, now, { event: "password.reset", actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { sessionsEnded: ended.sessions, devicesForgotten: ended.devices } });
    return true;
  });
  if (!settled) {
    // Nothing was guessed: the code was right when it was used, so its try is given back.
    await attemptVoid(deps.db, reservation);
    return { kind: "code-refused" };
  }
  deps.mailQueued();
  deps.metrics.codesConfirmed.inc();
  return { kind: "reset" };
}
