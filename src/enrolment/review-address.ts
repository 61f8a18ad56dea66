import type { Deps } from "../app/deps.ts";
import { otherEnabledHolders } from "../users/shared-address.ts";
import type { User } from "../users/users.ts";
import { checkEmailEntry, type EmailCheck, type EmailEntry } from "./email-rules.ts";
import { partnerUsualDomain, suggestDomain } from "./typo.ts";

export interface AddressEntry extends EmailEntry {
  /** The address the person was asked "Did you mean …?" about and chose to keep as typed. */
  keepTyped?: string | undefined;
}

/**
 * Whether an address form offers the "This is my own mailbox" tick after a refusal: for a shared-mailbox
 * name or an address another login ID already uses, when FAMOS_SHARED_MAILBOX_POLICY warns. One rule for
 * the first sign-in's form, early enrolment and Profile's address change.
 */
export function asksOwnMailbox(problem: string, policy: Deps["config"]["enrolment"]["sharedMailboxPolicy"]): boolean {
  return (problem === "shared-mailbox" || problem === "address-in-use") && policy === "warn";
}

export type AddressReview = EmailCheck | { ok: false; problem: "did-you-mean"; message: string; suggestion: string };

/**
 * A new OTP address, at enrolment or email change: the rules of SPEC item 2 (checkEmailEntry), then
 * issue 15's two reviews. A domain one slip away from a common mail domain or the partner's usual
 * one asks "Did you mean …?" until the person keeps what they typed. An address already the OTP email
 * of another enabled login ID is a shared mailbox in effect (otherEnabledHolders: a leaver's old address
 * is not): FAMOS_SHARED_MAILBOX_POLICY warns (the "This is my own mailbox" tick), refuses, or lets it pass.
 */
export async function reviewNewAddress(deps: Deps, user: User, entry: AddressEntry): Promise<AddressReview> {
  const check = checkEmailEntry(entry, deps.config.enrolment);
  if (!check.ok) return check;
  const at = check.email.lastIndexOf("@");
  const kept = entry.keepTyped !== undefined && entry.keepTyped.trim().toLowerCase() === check.email.toLowerCase();
  if (!kept) {
    const suggestion = suggestDomain(check.email.slice(at + 1), await partnerUsualDomain(deps.db, user.partner_number));
    if (suggestion) {
      const address = `${check.email.slice(0, at)}@${suggestion}`;
      return { ok: false, problem: "did-you-mean", message: `Did you mean ${address}?`, suggestion: address };
    }
  }
  const policy = deps.config.enrolment.sharedMailboxPolicy;
  if (policy === "off" || (await otherEnabledHolders(deps, check.email, user.id)) === 0) return check;
  if (policy === "refuse") {
    return {
      ok: false,
      problem: "address-in-use",
      message: "This address already receives the codes of another FAMOS login ID. Use your individually assigned work email address.",
    };
  }
  if (!entry.ownMailbox) {
    return {
      ok: false,
      problem: "address-in-use",
      message:
        "This address already receives the codes of another FAMOS login ID, so someone else may read your codes. Use your individually assigned work email address, or tick \"This is my own mailbox\" if both login IDs are yours.",
    };
  }
  return { ...check, sharedMailbox: true };
}
