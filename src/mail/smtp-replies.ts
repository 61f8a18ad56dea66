import { statusBlamesAddress } from "../bounce/status.ts";

// The SMTP reply tables: what a failed send says, read from nodemailer's error alone (its command, reply
// code, enhanced status and words; RFC 5321 §4.2, RFC 3463), the one home of each rule of them.
// src/mail/transport.ts throws what failureOf says; the relay pause (relay-pause.ts) reads relayRefusalOf.

/**
 * What a failure says of the relay rather than of the message: "unreachable", no conversation could
 * begin (relayUnreachable below); "tls", of those, no secure channel could be set up (noTls below: the
 * operator checks the certificate and the host, never drops requireTLS); "refused", the relay answered
 * and refuses FAMOS itself (relayRefusal below). Either way any other message would fail the same way
 * now (the sender's relay pause), where a reply to this message's own commands says nothing of the next.
 * Stored (MailFault), "tls" is "unreachable": what the message waits for is the same.
 */
export type RelayFault = "unreachable" | "tls" | "refused";

/**
 * The kind of a failed try, stored with it (outbox.last_fault) so nothing parses the stored words back:
 * what of FAMOS the relay refuses (relayRefusalOf: "relaying" at RCPT TO, its "login", its "sender", FAMOS
 * as a "client"), "unreachable" (relayUnreachable), or "address" (the recipient's address refused:
 * addressRefusal). OTP capture's "notRelayed" is a code's mail whose last try failed with "relaying".
 */
export type MailFault = "relaying" | "login" | "sender" | "client" | "unreachable" | "address";

/**
 * A bare refusal's words about the relay's own rules, not the mailbox: "550 Relaying denied", "we do not
 * relay", "Authentication required", "sender verify failed". Such a relay refuses every recipient alike,
 * and taking it as the address's fault would mark every staff member's address undeliverable at once.
 */
const ABOUT_THE_RELAY = /\brelay|authenticat|\bsender\b|\bclient host\b|\bhelo\b|\bspf\b|\bpolicy\b|\bblock(?:ed|list)|\bspam|\bgateway\b/i;

/**
 * Of ABOUT_THE_RELAY's words, those that name FAMOS as the relay's client and could be said of no single
 * recipient: relaying ("Relaying denied", Postfix's "Relay access denied", "we do not relay"), FAMOS's
 * login ("Authentication required"), its sender ("Sender address rejected", "sender verify failed",
 * Exchange Online's "5.1.8 … bad outbound sender"), its host (Postfix's "Client host rejected":
 * NAMES_CLIENT_HOST), its HELO name (NAMES_HELO). A policy, SPF, a block list or spam may be one
 * receiving domain's rule for its own mailboxes.
 */
const REFUSES_FAMOS = /\brelay|authenticat|\bsender\b|\bclient host\b|\bhelo\b/i;

/**
 * A refusal at RCPT TO of FAMOS's HELO name: Postfix checks smtpd_helo_restrictions there by default
 * (smtpd_delay_reject), "504 5.5.2 <famos-7c9d>: Helo command rejected: need fully-qualified hostname",
 * the same refusal heloRefused takes at HELO itself: FAMOS as a client (relayRefusalOf), not relaying.
 * Only HELO named as the thing refused ("HELO rejected", "Rejected HELO", Exim ACLs' "HELO/EHLO rejected: invalid
 * hostname" and "Rejected: HELO …"), not "helo=" in a relay's log words.
 */
const NAMES_HELO = /\b(?:helo|ehlo)(?:\/(?:helo|ehlo))?(?: command)? (?:rejected|refused|blocked)\b|\b(?:rejected|refused|blocked):? (?:helo|ehlo)\b/i;

/**
 * An address written bare in a reply, without <...> (Sendmail's "550 relay@dealer.example... User unknown",
 * "… rejected for helo@dealer.example"): a local part of RFC 5322's atext and dots (or SMTPUTF8 letters),
 * "@", a domain of labels. It takes no word without its "@", and leaves the punctuation around it.
 * A match begins only where a run of those characters begins (the lookbehind): else each position of a
 * long run without "@" began a scan to the run's end, quadratic (64 KB: seconds; nodemailer takes replies
 * up to 1 MiB, and replyWords reads one several times per failed send). Exported for its test.
 */
export const BARE_ADDRESS = /(?<![\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-])[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*/gu;

/**
 * A reply's words without its code and enhanced status, and without the addresses relays repeat (the
 * recipient's, typed by a user; FAMOS's own), in <...> or bare (BARE_ADDRESS), in which \b finds words
 * across - . @ ("<jane@helo-motors.example>", "relay@dealer.example") that would otherwise speak for the relay.
 */
const replyWords = (response: string | undefined): string =>
  (response ?? "").replace(/^\d{3}[ -]?(?:\d\.\d{1,3}\.\d{1,3}(?!\d))?/, "").replace(/<[^<>]*>/g, " ").replace(BARE_ADDRESS, " ");

/**
 * A refusal to relay said outright, whatever else the words hold: real relays name the recipient or the
 * credentials in it (Exchange Server and Exchange Online's "5.7.54 SMTP; Unable to relay recipient in
 * non-accepted domain", Exchange 2003/2007's "Unable to relay for <address>", Gmail's SMTP relay service's
 * "Invalid credentials for relay", Sendmail's "Relaying denied", Exim's "relay not permitted"), which
 * ABOUT_THE_MAILBOX alone would take for a mailbox's words and fail the message as one recipient's policy.
 */
const REFUSES_TO_RELAY = /\bunable to relay\b|\brelay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed)\b|\bnot (?:permitted|allowed) to relay\b|\bwe do not relay\b|\bcredentials for relay\b/i;

/**
 * A refusal at RCPT TO of FAMOS's host: Postfix checks smtpd_client_restrictions there by default
 * (smtpd_delay_reject), "554 5.7.1 <host[192.0.2.7]>: Client host rejected: Access denied", and its most
 * common one is a block list (reject_rbl_client), "554 5.7.1 Service unavailable; Client host [192.0.2.7]
 * blocked using zen.spamhaus.org; …", Microsoft 365's too ("550 5.7.1 Service unavailable, Client host
 * [192.0.2.7] blocked using Spamhaus", "550 5.7.606 Access denied, banned sending IP [192.0.2.7]"): the relay
 * refusing FAMOS as its client as a refused HELO name is (NAMES_HELO, heloRefused): "client" (relayRefusalOf),
 * not relaying, unless the words refuse relaying outright. It waits as relaying denied does (rcptRefusal's "relay").
 */
const NAMES_CLIENT_HOST = /\bclient host (?:\[[^\]]*\] )?(?:rejected|blocked)\b|\bbanned sending ip\b/i;

/**
 * Of FAMOS's host refused (NAMES_CLIENT_HOST's kin): a receiving domain's own server that takes no mail straight
 * from FAMOS's address, FAMOS_SMTP_URL naming it rather than a relay, Gmail's "550-5.7.1 [192.0.2.7] The IP
 * you're using to send mail is not authorized to send email directly to our servers. Please use the SMTP relay
 * at your service provider instead" (its "relay" asks for one, refusing none): "client", never "relaying".
 */
const NAMES_DIRECT_SENDING = /\bthe ip you['’]re using to send mail is not authorized\b/i;

/**
 * Exchange's recipient restriction check (its RESOLVER.RST.* replies, 5.7.1 and Exchange Online's 5.7.133/5.7.134:
 * "RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed
 * because the sender was not authenticated when sending to this group", "RESOLVER.RST.AuthRequired; authentication
 * required", "RESOLVER.RST.NotAuthorized; not authorized", "RESOLVER.RST.NotAuthorizedToGroup; …"): the group's or
 * mailbox's own rule of who may send to it, what its owner set for that recipient alone. Its "authentication"
 * is the sender's standing with that recipient, not FAMOS's login: the message fails for good as a recipient's
 * policy does, and is no evidence against the relay (rcptRefusal: no pause however often it repeats) nor
 * against the address (it is no such mailbox's words: addressRefusal).
 */
const RECIPIENTS_OWN_RULE = /\bresolver\.rst\.[a-z]/i;

/**
 * Gmail's refusal of a sending host without forward-confirmed reverse DNS, about FAMOS's host whatever the
 * recipient: "550-5.7.25 [192.0.2.7] The IP address sending this message does not have a 550-5.7.25 PTR record
 * setup, or the corresponding forward DNS entry does not 550 5.7.25 point to the sending IP. As a policy, Gmail
 * does not accept messages from IPs with missing PTR records." (the continuation lines' codes stay inside the
 * words as nodemailer joins them). "client" (rcptRefusesFamos), and the advice names reverse DNS (noReverseDns).
 */
const NAMES_NO_PTR = /\bdoes not have a (?:5\d\d[ -]5\.7\.25 )?ptr record\b|\bmissing ptr records?\b/i;

/** The receiving server refuses FAMOS's address for want of reverse DNS (NAMES_NO_PTR): relay-pause.ts's advice. */
export function noReverseDns(error: unknown): boolean {
  return NAMES_NO_PTR.test(replyWords((error as { response?: string }).response));
}

/** FAMOS_SMTP_URL's server is a receiving domain's own, refusing mail straight from FAMOS's host (NAMES_DIRECT_SENDING): relay-pause.ts's advice. */
export function directSendingRefused(error: unknown): boolean {
  return NAMES_DIRECT_SENDING.test(replyWords((error as { response?: string }).response));
}

/**
 * A refusal at RCPT TO of FAMOS's envelope sender, FAMOS_MAIL_FROM's, the same for every message: Postfix
 * checks smtpd_sender_restrictions there by default (smtpd_delay_reject), "553 5.7.1 <famos@dealer.example>:
 * Sender address rejected: not owned by user famos" (reject_sender_login_mismatch: "user" is FAMOS's login,
 * no recipient's mailbox), "… Sender address rejected: Domain not found"; Exim's "Sender verify failed"
 * (its RCPT ACL's verify = sender); Exchange Online's "5.1.8 … bad outbound sender". "sender" (relayRefusalOf).
 */
const NAMES_SENDER = /\bsender address rejected\b|\bsender verify failed\b|\bbad outbound sender\b/i;

/** The block list a refusal of FAMOS's host names ("blocked using zen.spamhaus.org"), if it names one: relay-pause.ts's advice. */
export function blockListOf(error: unknown): string | null {
  return /\bblocked using ([\w.-]*\w)/i.exec(replyWords((error as { response?: string }).response))?.[1] ?? null;
}

/**
 * What of FAMOS a refusal at RCPT TO refuses outright, read from its words alone (replyWords), the one rule
 * of it for whether it waits (rcptRefusal) and for its kind (relayRefusalOf): relaying said outright first
 * (REFUSES_TO_RELAY, whatever else the words name), then FAMOS's host or HELO name (NAMES_CLIENT_HOST,
 * NAMES_DIRECT_SENDING, NAMES_NO_PTR, NAMES_HELO: "client"), then its sender (NAMES_SENDER); else null.
 */
function rcptRefusesFamos(words: string): "relaying" | "client" | "sender" | null {
  if (REFUSES_TO_RELAY.test(words)) return "relaying";
  if (NAMES_CLIENT_HOST.test(words) || NAMES_DIRECT_SENDING.test(words) || NAMES_NO_PTR.test(words) || NAMES_HELO.test(words)) return "client";
  return NAMES_SENDER.test(words) ? "sender" : null;
}

/**
 * A bare refusal counts only in the mailbox's own words ("no such user", "Unrouteable address", RFC 5321's
 * "mailbox unavailable"): relays refuse FAMOS in words of their own that name no mailbox (qmail's "that
 * domain isn't in my list of allowed rcpthosts", hMailServer's "Delivery is not allowed to this address",
 * Exim's "Administrative prohibition"), and words not known here are no evidence against an address.
 */
const ABOUT_THE_MAILBOX = /\b(?:user|mailbox|recipient|no such|unknown|(?:does )?not exist|unrouteable|unroutable|invalid|disabled|inactive|not found|not local)\b/i;

/** A 5yz reply's enhanced status (RFC 2034 §4: first in its text, "550 5.1.1 No such user"), if it has one. */
const enhancedStatus = (response: string | undefined): string | undefined => /^5\d\d[ -](\d\.\d{1,3}\.\d{1,3})(?!\d)/.exec(response ?? "")?.[1];

/**
 * A permanent refusal of the recipient at RCPT TO that says the address itself is bad, with its enhanced
 * status (RFC 3463), else null. RFC 5321 makes a 5yz reply to RCPT a permanent refusal of that
 * recipient (§4.2.1, §3.3): a relay that answers a bare "550 no such user", with no enhanced status
 * (RFC 2034 is optional; Exim and older relays), refuses the address as surely as "550 5.1.1" does, so
 * the reply codes that name the mailbox (550 unavailable, 551 not local, 553 name not allowed) count
 * with status null. With an enhanced status, only X.1.x addressing (5.1.1 no such mailbox, 5.1.2 no
 * such domain, …) and 5.2.1 mailbox disabled count (statusBlamesAddress, the rule a bounce report
 * follows too): 5.7.1 "relaying denied" is about FAMOS's relay settings and would blame every address,
 * 5.2.2 "mailbox full" is transient (RFC 3463 §3.3); and a bare 530 or 554 is about the client.
 */
export function addressRefusal(error: unknown): { status: string | null } | null {
  const e = error as { code?: string; command?: string; responseCode?: number; response?: string };
  if (e.code !== "EENVELOPE" || e.command !== "RCPT TO" || e.responseCode === undefined || e.responseCode < 500) return null;
  const enhanced = enhancedStatus(e.response);
  if (enhanced === undefined) {
    const words = replyWords(e.response);
    return [550, 551, 553].includes(e.responseCode) && ABOUT_THE_MAILBOX.test(words) && !ABOUT_THE_RELAY.test(words) ? { status: null } : null;
  }
  // The same rule as a bounce report's (statusBlamesAddress): not the sender's X.1.7/X.1.8, FAMOS's own.
  return statusBlamesAddress(enhanced, "rcpt") ? { status: enhanced } : null;
}

/**
 * What a permanent refusal at RCPT TO that does not blame the address (addressRefusal) nor is retried
 * (retriedDespite5yz) says, the one rule of it: "relay", the relay refuses FAMOS as its client, in words
 * that refuse relaying or FAMOS's host, sender or HELO name outright (rcptRefusesFamos, whatever mailbox words
 * they hold too), or of REFUSES_FAMOS and none about the mailbox: the message waits for the operator's fix,
 * never failed for it; "policy", a 5.7.x
 * status or no status at all, which a receiving domain gives for one mailbox ("550 5.7.1 Delivery not
 * authorized, message refused") as a relay gives for all ("Administrative prohibition"): that message
 * fails. Either may be for this recipient only — a relay relays to its own domains for anyone, and
 * "Relay access denied" is its answer for the others — so the relay pause takes either as the relay's
 * only when it repeats for a different recipient (relay-pause.ts: refusedByPolicy); else null (5.3.x,
 * 5.4.x …: the message's, failed as before), and null for a recipient's own rule said as such (RECIPIENTS_OWN_RULE,
 * unless the words refuse FAMOS outright too): failed for good, never the relay's however often it repeats.
 */
function rcptRefusal(error: unknown): "relay" | "policy" | null {
  const e = error as { command?: string; responseCode?: number; response?: string };
  if (e.command !== "RCPT TO" || e.responseCode === undefined || e.responseCode < 500) return null;
  if (addressRefusal(error) !== null || retriedDespite5yz(error)) return null;
  const enhanced = enhancedStatus(e.response);
  const words = replyWords(e.response);
  const famos = rcptRefusesFamos(words);
  if (famos === null && RECIPIENTS_OWN_RULE.test(words)) return null;
  if (famos !== null || (REFUSES_FAMOS.test(words) && !ABOUT_THE_MAILBOX.test(words))) return "relay";
  return enhanced === undefined || enhanced.startsWith("5.7.") ? "policy" : null;
}

/** The system's words for a relay that is not there: no route, no name, no listener. */
const NO_RELAY = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * The TLS layer's words for a channel that could not be secured (Node's and OpenSSL's codes): the
 * relay's certificate refused (expired, not yet valid, self-signed or of an unknown issuer, another
 * host's name: CERT_*, *_SELF_SIGNED_*, UNABLE_TO_*, HOSTNAME_MISMATCH, ERR_TLS_CERT_ALTNAME_INVALID) or
 * a handshake that failed (ERR_SSL_*: `smtps://` to a plain port, no protocol in common). nodemailer
 * reports a TLS error of the socket alike (ESOCKET, command CONN) whether it came in the handshake or
 * later in the session, so an ERR_SSL_ or ERR_TLS_ alert in the middle of a message (rare: a record the
 * relay's TLS stack could not read) pauses the relay too: the next try comes after the first pause
 * (2 s, backoffMs), and the relay's first answer ends it; no message is failed for it.
 */
const TLS_FAILURE = /^(?:ERR_SSL_|ERR_TLS_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|INVALID_CA$|CERT_UNTRUSTED$)/;

/**
 * The commands that set a session up, before any message (RFC 5321 §4.1.1.1, RFC 3207): sent in clear
 * before TLS, so someone on the path can answer them for the relay. A refusal of any of them is no
 * conversation, whatever the message. HELO's comes last: nodemailer sends it only without requireTLS,
 * after EHLO was refused, and a relay that answered both refuses FAMOS as a client (heloRefused).
 */
const SESSION_COMMANDS = new Set(["EHLO", "HELO", "STARTTLS"]);

/**
 * HELO refused (a 4yz or 5yz but 421, RFC 5321 §4.1.1.1): FAMOS_SMTP_URL without requireTLS, EHLO refused
 * first (with requireTLS nodemailer gives up at EHLO instead: noTls). The relay was reached and answered
 * twice; what it refuses is FAMOS as its client — Postfix's "Client host rejected: cannot find your
 * hostname", "Helo command rejected: need fully-qualified hostname", the HELO name or the host's
 * address — so the words send the operator to the relay's settings and log, not to a network that works.
 * No TLS was asked for here, so a path answering for the relay gets no requireTLS dropped by these words.
 */
function heloRefused(error: unknown): boolean {
  const e = error as { command?: string; responseCode?: number };
  return e.command === "HELO" && e.responseCode !== undefined && e.responseCode >= 400 && e.responseCode !== 421;
}

/**
 * No secure channel with the relay (a RelayFault "tls"): TLS_FAILURE, nodemailer's ETLS (STARTTLS not
 * offered or refused while FAMOS_SMTP_URL requires it, `requireTLS`), or nodemailer giving up on a refused
 * EHLO (ECONNECTION at EHLO: with `requireTLS` it may not fall back to HELO, which has no STARTTLS). All are
 * also what someone on the path who strips STARTTLS or answers EHLO makes of every connection.
 */
function noTls(error: unknown): boolean {
  const e = error as { code?: string; originalCode?: string; command?: string; responseCode?: number };
  if (e.responseCode === 421) return false;
  if (e.code === "ETLS" || e.command === "STARTTLS" || (e.command === "EHLO" && e.code === "ECONNECTION")) return true;
  return e.code === "ESOCKET" && e.originalCode !== undefined && TLS_FAILURE.test(e.originalCode);
}

/**
 * No conversation with the relay could begin: the connection refused or never made, its name not
 * found, no greeting in time, "421 service not available", EHLO or STARTTLS refused (SESSION_COMMANDS;
 * HELO refused is relayRefusal's, checked first: heloRefused), or no secure channel (noTls). Any other message would fail the same way, so it
 * waits rather than fail for good at its first try (a 5yz to STARTTLS or EHLO used to: notices and
 * announcements lost); it waits up to the retry window, as any message whose tries fail (sender.ts nextTry).
 * nodemailer marks every failure of the connection "CONN", a connection dropped or stalled in the
 * middle of a message too, so its finer fields decide (originalCode: the system's error; timeoutType:
 * which wait ran out); a connection that drops after the greeting says nothing of the next message
 * and is not counted here, but for a TLS alert, which nodemailer does not tell apart from the
 * handshake's (TLS_FAILURE).
 */
function relayUnreachable(error: unknown): boolean {
  const e = error as { code?: string; originalCode?: string; timeoutType?: string; responseCode?: number; command?: string };
  if (e.responseCode === 421 || noTls(error)) return true;
  if (e.command !== undefined && SESSION_COMMANDS.has(e.command) && e.responseCode !== undefined && e.responseCode >= 400) return true;
  if (e.code === "EDNS") return true;
  if (e.timeoutType === "CONNECT_TIMEOUT" || e.timeoutType === "GREETING_TIMEOUT") return true;
  return e.code === "ESOCKET" && e.originalCode !== undefined && NO_RELAY.has(e.originalCode);
}

/**
 * A 5yz reply to MAIL FROM about this message rather than FAMOS's sender: its size (552, RFC 1870 §6's
 * answer to a SIZE= declared beyond the relay's limit; X.3.4 message too big for the system, X.2.3
 * message too long) or its encoding (X.6.x: an internationalised address the relay cannot take, RFC 6531's
 * 5.6.7). Another message may well go.
 */
function mailFromAboutMessage(error: unknown): boolean {
  const e = error as { responseCode?: number; response?: string };
  const enhanced = enhancedStatus(e.response);
  return e.responseCode === 552 || enhanced === "5.3.4" || enhanced === "5.2.3" || (enhanced?.startsWith("5.6.") ?? false);
}

/**
 * The relay answered and refuses FAMOS itself, not this message: its greeting is a 5yz ("554 No SMTP
 * service here", RFC 5321 §3.1) or it refuses FAMOS's HELO (heloRefused), the login in FAMOS_SMTP_URL is refused (535, RFC 4954 §6: the wrong
 * password) or impossible (nodemailer's EAUTH), it asks for a login FAMOS did not give (530), it refuses
 * FAMOS's sender at MAIL FROM, or it refuses to relay for FAMOS at RCPT TO (rcptRefusal's "relay"). A 5yz
 * to MAIL FROM comes before any recipient is named and the envelope sender is FAMOS's for every message
 * (FAMOS_MAIL_FROM, or its bounce address): Postfix's "553 5.7.1 Sender address rejected: not owned by
 * user", Microsoft 365's "550 5.7.60 Client does not have permissions to send as this sender", Exim's
 * "550 Sender verify failed", Gmail's "550 5.7.0 Mail relay denied" refuse every message alike; only one
 * about the message's own size or encoding (mailFromAboutMessage) is the message's, and one retried
 * anyway (retriedDespite5yz) waits as it is. Not the message's failure for good: the operator fixes the
 * relay or the setting, and the mail waits for it.
 */
function relayRefusal(error: unknown): boolean {
  const e = error as { code?: string; command?: string; responseCode?: number };
  if (e.code === "EAUTH" || e.responseCode === 530 || rcptRefusal(error) === "relay" || heloRefused(error)) return true;
  if (e.command === "MAIL FROM" && e.responseCode !== undefined && e.responseCode >= 500) return !mailFromAboutMessage(error) && !retriedDespite5yz(error);
  return e.command === "CONN" && e.responseCode !== undefined && e.responseCode >= 500;
}

/**
 * What of FAMOS a refusal that relayRefusal calls the relay's refuses, for the words that say what to
 * fix (relay-pause.ts: relayRefusalAdvice): its login (EAUTH, 530), its sender (MAIL FROM, or named at RCPT
 * TO: NAMES_SENDER), relaying for it (RCPT TO), or FAMOS as a client at all (a 5yz greeting, HELO refused, its
 * HELO name or host refused at RCPT TO: NAMES_HELO, NAMES_CLIENT_HOST); at RCPT TO read from the reply's words
 * alone (rcptRefusesFamos), as rcptRefusal reads them; null for anything relayRefusal does not take.
 */
export function relayRefusalOf(error: unknown): "login" | "sender" | "relaying" | "client" | null {
  if (!relayRefusal(error)) return null;
  const e = error as { code?: string; command?: string; responseCode?: number };
  if (e.code === "EAUTH" || e.responseCode === 530) return "login";
  if (e.command === "MAIL FROM") return "sender";
  if (e.command === "RCPT TO") return rcptRefusesFamos(replyWords((error as { response?: string }).response)) ?? "relaying";
  return "client";
}

/** The kind of a failed try (MailFault), the one rule of it, or null for a failure of no kind FAMOS tells apart. */
export function mailFaultOf(error: unknown): MailFault | null {
  return relayRefusalOf(error) ?? (relayUnreachable(error) ? "unreachable" : addressRefusal(error) !== null ? "address" : null);
}

/**
 * A 5yz reply that is nonetheless retried, the one rule of it:
 * - enhanced status X.2.2, mailbox full: RFC 3463 §3.3 has it treated as a persistent transient failure
 *   (someone may empty the mailbox), as a bounce report's is (src/bounce/dsn.ts);
 * - 552 at RCPT TO with no enhanced status, or with X.5.3 "too many recipients": RFC 5321 §4.5.3.1.10
 *   has a 552 there meaning too many recipients treated as temporary (an old relay's reply for its
 *   recipient limit), and FAMOS sends one recipient a message, so a later try goes. A 552 whose status
 *   says something lasting (5.3.4 message too big, 5.7.x a policy) is not retried.
 */
function retriedDespite5yz(error: unknown): boolean {
  const e = error as { command?: string; responseCode?: number; response?: string };
  const enhanced = enhancedStatus(e.response);
  if (enhanced === "5.2.2") return true;
  return e.command === "RCPT TO" && e.responseCode === 552 && (enhanced === undefined || enhanced === "5.5.3");
}

/** What a failed send says: everything src/mail/transport.ts's MailDeliveryError carries but the words. */
export interface SendFailure {
  /** Not retried: a 5yz reply (RFC 5321 §4.2.1) that is neither the relay's refusal of FAMOS nor retried anyway (retriedDespite5yz). */
  permanent: boolean;
  addressRefused: { status: string | null } | null;
  relay: RelayFault | null;
  refusedByPolicy: boolean;
  fault: MailFault | null;
}

/** What nodemailer's error for a failed send says (SendFailure). */
export function failureOf(error: unknown): SendFailure {
  const code = (error as { responseCode?: number }).responseCode;
  const relay: RelayFault | null = relayRefusal(error) ? "refused" : relayUnreachable(error) ? (noTls(error) ? "tls" : "unreachable") : null;
  // RFC 5321 §4.2.1: 5yz replies are permanent, 4yz transient; no reply at all is transient. A
  // refusal of FAMOS itself is the relay's to fix, not the message's end.
  const permanent = relay === null && code !== undefined && code >= 500 && !retriedDespite5yz(error);
  return { permanent, addressRefused: addressRefusal(error), relay, refusedByPolicy: rcptRefusal(error) !== null, fault: mailFaultOf(error) };
}
