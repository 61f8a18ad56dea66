import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { issueCode, type IssueOutcome } from "../otp/codes.ts";
import type { Flow } from "../otp/flows.ts";
import type { RequestContext } from "../platform/request-context.ts";
import { inLiveSession, type SignedOut } from "../session/live-session.ts";
import type { Session } from "../session/sessions.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";

/** Sends the flow's next code inside the caller's transaction: "code.sent" for a flow's first, "code.regenerated" after. */
export type Send = (flow: Flow, event?: "code.sent" | "code.regenerated") => Promise<IssueOutcome>;

/**
 * The one way a code goes out for a session — enrolment, the email change and Regenerate: `work`
 * runs in one transaction and calls `send(flow)`, which issues the code within the waits and caps
 * (otp/codes.ts) and audits it with the flow's purpose; after the commit, and only then, the sender
 * is woken and the code counted. `work` returns its result with the outcome as `issued`.
 *
 * The transaction runs only while `session` is live (inLiveSession: the user's row, then the
 * session's): the request loaded its session before reading the flow or reviewing an address, and a
 * support reset of the OTP email (which voids the codes, finishes the flows and ends the sessions
 * in one transaction) or a disable committed since must not be followed by a code mail for what it
 * just replaced — above all none to the address support has just removed. Signed out, nothing is
 * written and nothing queued.
 */
export async function sendCode<T extends { issued: IssueOutcome }>(
  deps: Deps,
  user: User,
  session: Pick<Session, "id">,
  ctx: RequestContext,
  work: (tx: Kysely<Database>, send: Send, now: number) => Promise<T>,
): Promise<{ value: T } | SignedOut> {
  const now = deps.clock.now();
  const result = await inLiveSession(deps, user, session, (tx) => work(tx, codeSender(deps, tx, user, ctx, now), now));
  if ("value" in result) codeQueued(deps, result.value.issued);
  return result;
}

/**
 * sendCode's two halves, for a caller whose transaction is opened by another rule (the sign-in's
 * first code goes out in the transaction that settles the password, checkPassword): `send` within
 * it, and codeQueued once it has committed.
 */
export function codeSender(deps: Deps, tx: Kysely<Database>, user: User, ctx: RequestContext, now: number): Send {
  return async (flow, event = "code.sent") => {
    const outcome = await issueCode(deps, tx, flow, user.login_id, now, ctx, user);
    if (outcome.kind === "sent") {
      await recordAudit(tx, now, { event, actor: user.login_id, subject: user.login_id, ip: ctx.ip, userAgent: ctx.userAgent, detail: { purpose: flow.kind } });
    }
    return outcome;
  };
}

/**
 * After the commit that queued a code's mail: the code is counted, and its mail, written already
 * claimed by this process's sender, handed to SMTP at once; written only queued (no sender here takes
 * mail now), the sender is woken.
 */
export function codeQueued(deps: Deps, issued: IssueOutcome): void {
  if (issued.kind !== "sent") return;
  deps.metrics.codesSent.inc();
  if (issued.claimed) deps.mailClaimed(issued.claimed);
  else deps.mailQueued();
}
