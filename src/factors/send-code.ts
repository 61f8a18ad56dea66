import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { issueCode, type IssueOutcome } from "../otp/codes.ts";
import type { Flow } from "../otp/flows.ts";
import type { RequestContext } from "../platform/request-context.ts";
import type { Database } from "../store/schema.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import type { User } from "../users/users.ts";

/** Sends the flow's next code inside the caller's transaction: "code.sent" for a flow's first, "code.regenerated" after. */
export type Send = (flow: Flow, event?: "code.sent" | "code.regenerated") => Promise<IssueOutcome>;

/**
 * The one way a code goes out, for sign-in, enrolment, the email change and Regenerate: `work` runs
 * in one transaction and calls `send(flow)`, which issues the code within the waits and caps
 * (otp/codes.ts) and audits it with the flow's purpose; after the commit, and only then, the sender
 * is woken and the code counted. `work` returns its result with the outcome as `issued`.
 */
export async function sendCode<T extends { issued: IssueOutcome }>(
  deps: Deps,
  user: User,
  ctx: RequestContext,
  work: (tx: Kysely<Database>, send: Send, now: number) => Promise<T>,
): Promise<T> {
  const now = deps.clock.now();
  const result = await deps.db.transaction().execute(async (tx) => {
    // The user's row before the codes and flows `work` voids: the order of a confirmation and of a
    // support reset, so on PostgreSQL they wait for each other instead of deadlocking.
    await takeTurnsOn(tx, deps.dialect, { table: "users", id: user.id });
    return work(tx, codeSender(deps, tx, user, ctx, now), now);
  });
  codeQueued(deps, result.issued);
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
