import type { Kysely } from "kysely";
import type { Deps } from "../../src/app/deps.ts";
import { sendCode, type Send } from "../../src/factors/send-code.ts";
import type { IssueOutcome } from "../../src/otp/codes.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import type { Database } from "../../src/store/schema.ts";
import type { User } from "../../src/users/users.ts";

/**
 * sendCode for tests of what it sends: in `session`, or in a new live session of the user's when none
 * is given (sendCode sends only for a live session), its result unwrapped.
 */
export async function sendInSession<T extends { issued: IssueOutcome }>(
  deps: Deps,
  user: User,
  ctx: RequestContext,
  work: (tx: Kysely<Database>, send: Send, now: number) => Promise<T>,
  session?: Pick<Session, "id">,
): Promise<T> {
  const live = session ?? (await createSession(deps.db, deps.random, deps.clock.now(), deps.config.session, { userId: user.id, stage: "otp", flowId: null, ...ctx })).session;
  const sent = await sendCode(deps, user, live, ctx, work);
  if (!("value" in sent)) throw new Error("sendInSession: the session has ended");
  return sent.value;
}
