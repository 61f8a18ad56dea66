/**
 * Whether an RFC 3463 enhanced status code ("5.1.1") says the recipient's address itself is bad for
 * good — the one rule for a refusal at RCPT TO (src/mail/transport.ts, addressRefusal) and for a
 * bounce report (src/bounce/dsn.ts). Only a permanent (5.x.x) status of these counts:
 *
 * - X.1.x addressing (§3.2): 5.1.1 no such mailbox, 5.1.2 no such system, 5.1.3 bad syntax, 5.1.6
 *   moved, …; but not X.1.7 and X.1.8, "bad sender's mailbox address syntax" and "bad sender's system
 *   address": the SENDER's address, FAMOS's own (Exchange Online's "550 5.1.8 Access denied, bad
 *   outbound sender" when FAMOS's sending account is blocked).
 * - X.2.1 mailbox disabled (§3.3). Not X.2.2 mailbox full (transient, §3.3), X.2.3 message too long
 *   (the message), X.2.4 list expansion.
 *
 * Everything else is about something other than this address: X.3.x the receiving system, X.4.x the
 * network and routing, X.5.x the protocol, X.6.x the content, X.7.x security and policy ("5.7.1
 * relaying denied", an SPF or DMARC failure of FAMOS's domain). Such a status comes back for every staff
 * member alike when FAMOS's relay, account or domain is at fault; blaming the address would mark them
 * all undeliverable at once.
 */
export function statusBlamesAddress(status: string | null | undefined): boolean {
  if (status == null) return false;
  const match = /^5\.(\d{1,3})\.(\d{1,3})$/.exec(status);
  if (!match) return false;
  const [subject, detail] = [Number(match[1]), Number(match[2])];
  return (subject === 1 && detail !== 7 && detail !== 8) || (subject === 2 && detail === 1);
}
