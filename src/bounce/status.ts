/**
 * A permanent RFC 3463 status about something other than the recipient's address: the sender's X.1.7
 * and X.1.8 ("bad sender's mailbox address syntax", "bad sender's system address": FAMOS's own, as
 * Exchange Online's "550 5.1.8 Access denied, bad outbound sender" when FAMOS's sending account is
 * blocked), X.2.2 mailbox full (transient, §3.3), X.2.3 message too long, X.2.4 list expansion, the
 * receiving system's X.3.1–X.3.5, the network's X.4.x but for X.4.4 (unable to route: a domain that
 * does not exist), and every X.5.x protocol, X.6.x content and X.7.x security or policy
 * status ("5.7.1 relaying denied", an SPF or DMARC failure of FAMOS's domain). Such a status comes back
 * for every staff member alike when FAMOS's relay, account or domain is at fault; blaming the address
 * would mark them all undeliverable at once.
 */
function aboutSomethingElse(subject: number, detail: number): boolean {
  if (subject === 1) return detail === 7 || detail === 8;
  if (subject === 2) return detail >= 2 && detail <= 4;
  // X.3.x the receiving system's own state (full, not accepting, too big, misconfigured); X.4.x the
  // network (no answer, a routing loop, congestion) but X.4.4 "unable to route", a domain not found.
  if (subject === 3) return detail >= 1;
  if (subject === 4) return detail !== 0 && detail !== 4;
  return subject === 5 || subject === 6 || subject === 7;
}

/**
 * Whether a permanent (5.x.x) enhanced status code says the recipient's address is bad for good: the
 * one rule for a refusal at RCPT TO (src/mail/smtp-replies.ts, addressRefusal) and for a bounce report
 * (src/bounce/dsn.ts). Neither counts a status about something else (aboutSomethingElse). Beyond that:
 *
 * - "rcpt": FAMOS's own relay refused the recipient while FAMOS was sending; only a status that names
 *   the mailbox blames it, X.1.x addressing (5.1.1 no such mailbox, 5.1.2 no such system, …) and X.2.1
 *   mailbox disabled: a relay's 5.3.x or 5.4.x there is about the relay's own state.
 * - "report": a receiving system reported the recipient failed; any other 5.x.x blames it, as a relay's
 *   generic 5.0.0 (Exim's reports) and Postfix's 5.4.4 "Host or domain name not found" (a mistyped
 *   domain, the commonest wrong address) are about the recipient.
 */
export function statusBlamesAddress(status: string | null | undefined, at: "rcpt" | "report"): boolean {
  const match = /^5\.(\d{1,3})\.(\d{1,3})$/.exec(status ?? "");
  if (!match) return false;
  const [subject, detail] = [Number(match[1]), Number(match[2])];
  if (aboutSomethingElse(subject, detail)) return false;
  return at === "report" || subject === 1 || (subject === 2 && detail === 1);
}
