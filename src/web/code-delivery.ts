import type { Deps } from "../app/deps.ts";
import { addressProblems, addressProblemsAndHolders } from "../bounce/addresses.ts";
import { codeLapse } from "../otp/codes.ts";
import { flowWithCurrentCode } from "../otp/current-code.ts";
import { flowTakesCodes, type Flow } from "../otp/flows.ts";
import type { Translator } from "../i18n/translator.ts";
import { maskEmail } from "../platform/format.ts";
import { regenerateRefusal } from "./code-messages.ts";
import { deliveryLine, deliveryPending, type CodeDelivery } from "./pages/code-entry.ts";

/** A code step's delivery as the page shows it, and how many codes the step has had. */
export interface CodeDeliveryState {
  delivery: CodeDelivery;
  /** 1 for the first code of a sign-in or change: the page says "sent", not "a new code". */
  codesSent: number;
  /** The flow as read for this (issue 17: a caller needing it reads it from here, not again). */
  flow: Flow | undefined;
}

/**
 * Where the flow's current code went, its mail's state (outbox, bounces) and what bounces said about
 * the address, for OTP capture and the email-change code step alike.
 */
export async function codeDeliveryState(
  deps: Deps,
  t: Translator,
  flowId: string | null,
  fallbackEmail: string,
  holder: { id: string; login_id: string; otp_email: string | null },
): Promise<CodeDeliveryState> {
  const { flow, code } = (flowId ? await flowWithCurrentCode(deps.db, flowId) : undefined) ?? {};
  const email = code?.email ?? fallbackEmail;
  // An address just typed (enrolment, which the password alone reaches; Profile's change) is told shared
  // only where its review told so already (reviewNewAddress): under FAMOS_SHARED_MAILBOX_POLICY=off the
  // line would tell whoever holds a password whether any address is another login ID's OTP email
  // (SECURITY.md, Known limits 14). Her own confirmed address she is told of under every policy.
  const own = holder.otp_email !== null && holder.otp_email.toLowerCase() === email.toLowerCase();
  const mayTell = own || deps.config.enrolment.sharedMailboxPolicy !== "off";
  const now = deps.clock.now();
  const lapsed = code ? codeLapse(code, now) : null;
  // Where the line may tell, the address's bounces and its other holders are one statement (issue 17).
  const [problems, shared] = !email
    ? [null, false]
    : mayTell
      ? await addressProblemsAndHolders(deps.db, email, holder.id).then((r) => [r.problems, r.otherHolders > 0] as const)
      : [await addressProblems(deps.db, email), false];
  return {
    delivery: {
      maskedEmail: maskEmail(email),
      sentAt: code ? t.time(code.created_at) : null,
      validUntil: code ? t.time(code.expires_at) : null,
      validForMs: code ? (lapsed === null ? Math.max(0, code.expires_at - now) : 0) : null,
      zoneAt: code ? code.created_at : null,
      mailState: code?.mail_state ?? null,
      mailWaiting: code?.mail_waiting ?? false,
      noMoreCodes: regenerateRefusal(deps, flow, flow?.kind === "email-change" ? "email-change" : "signin", t),
      flowEnded: !flowTakesCodes(flow),
      lapsed,
      undeliverable: problems?.undeliverableAt != null,
      mailboxFull: problems?.mailboxFull ?? false,
      softBounces: problems?.softBounces ?? 0,
      sharedAs: shared ? holder.login_id : null,
    },
    codesSent: flow?.codes_sent ?? 0,
    flow,
  };
}

/** The answer to the page's status module: the delivery line again, and whether to keep asking. */
export function deliveryStatusJson(t: Translator, delivery: CodeDelivery, newAddress = false): { pending: boolean; html: string } {
  return { pending: deliveryPending(delivery), html: deliveryLine(t, delivery, newAddress).value };
}
