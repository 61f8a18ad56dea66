import { blockListOf, directSendingRefused, noReverseDns, relayRefusalOf, type RelayFault } from "./smtp-replies.ts";
import { MailDeliveryError } from "./transport.ts";

/** What the pause says, once per outage: pino's logger, or anything with these two methods. */
export interface RelayPauseLog {
  warn(details: object, text: string): void;
  info(text: string): void;
}

/** What to check when the relay refuses FAMOS, by what it refuses (smtp-replies.ts: relayRefusalOf): the one home of these words. */
const RELAY_CHECKS = {
  login: "the user name and password in FAMOS_SMTP_URL",
  sender: "that the relay lets FAMOS send from FAMOS_MAIL_FROM's address (and FAMOS_BOUNCE_DOMAIN's, if set)",
  relaying: "that the relay lets FAMOS relay mail to other domains: its relaying permission for FAMOS's login or address",
  client: "the relay's own settings and log",
  direct: "that FAMOS_SMTP_URL names your mail provider's relay, not a recipient's own mail server",
  ptr: "that FAMOS's sending address has a PTR record naming a host whose own address is it",
} as const;

/** What the operator is told, once per outage, by what is wrong with the relay. */
const OUTAGE: Record<RelayFault, string> = {
  unreachable: "the mail relay cannot be reached: mail waits, one message tries it at a time",
  // Not "cannot be reached": an operator told so may drop requireTLS, which is what someone on the path wants.
  tls: "no TLS with the mail relay (its certificate or STARTTLS; possibly someone on the path): check the relay's certificate and FAMOS_SMTP_URL's host; do not drop requireTLS: mail waits, one message tries it at a time",
  // Every check, relaying too: a refusal at RCPT TO that repeats for other recipients is a relay that relays for nobody.
  refused: `the mail relay refuses FAMOS (check ${RELAY_CHECKS.login}, ${RELAY_CHECKS.sender}, ${RELAY_CHECKS.relaying}, or ${RELAY_CHECKS.client}): mail waits, one message tries it at a time`,
};

/** What the operator is told when the outage ends. */
const BACK: Record<RelayFault, string> = {
  unreachable: "the mail relay can be reached again",
  tls: "TLS with the mail relay works again",
  refused: "the mail relay takes FAMOS's mail again",
};

/**
 * What to fix, for one refusal of FAMOS by the relay (`famos doctor --send-to`'s test message), or null
 * when the relay did not refuse FAMOS itself (relayRefusalOf): its sender at MAIL FROM, relaying at RCPT TO,
 * its login, or FAMOS as a client.
 */
export function relayRefusalAdvice(error: unknown): string | null {
  switch (relayRefusalOf(error)) {
    case "sender":
      return `the mail relay refuses FAMOS's sender (check ${RELAY_CHECKS.sender})`;
    case "relaying":
      return `the mail relay will not relay FAMOS's mail to that address (check ${RELAY_CHECKS.relaying})`;
    case "login":
      return `the mail relay refuses FAMOS's login (check ${RELAY_CHECKS.login})`;
    case "client": {
      // A receiving domain's own server (Gmail's "Please use the SMTP relay at your service provider"): FAMOS_SMTP_URL names no relay.
      if (directSendingRefused(error)) return `the mail server in FAMOS_SMTP_URL takes no mail sent straight from FAMOS's host (check ${RELAY_CHECKS.direct})`;
      // Gmail's 5.7.25: FAMOS's sending address has no reverse DNS (or its name does not lead back to it).
      if (noReverseDns(error)) return `the receiving server finds no reverse DNS for FAMOS's address (check ${RELAY_CHECKS.ptr})`;
      // A block list named (Postfix's and Microsoft 365's "Client host [ip] blocked using zen.spamhaus.org"): FAMOS's address is listed.
      const list = blockListOf(error);
      return list === null ? `the mail relay refuses FAMOS (check ${RELAY_CHECKS.client})` : `the mail relay refuses FAMOS's host as on a block list, ${list} (check ${RELAY_CHECKS.client}, and that list's entry for FAMOS's address)`;
    }
    default:
      return null;
  }
}

/** How many recipients refused alone at RCPT TO the pause remembers (the oldest forgotten first): a staff's worth. */
const ALONE_KEPT = 10_000;

/**
 * The one rule for a relay that cannot be reached (no connection, no greeting, "421") or that refuses
 * FAMOS itself (a 5yz greeting, its login refused: smtp-replies.ts's RelayFault; relaying denied or a policy
 * refusal at RCPT TO that repeats for another recipient, faultOf): the drains
 * stop handing it mail, rather than try every queued message on its own schedule — a rollout's
 * thousand announcements at a relay down for an hour were tens of thousands of connections and
 * warnings. One message tries it after the retry ladder's delay (backoffMs: 2 s doubling to a
 * minute), the rest wait without a try counted; the first reply of the relay, to any message, ends
 * the pause and everything due goes at once (`onBack`: the sender looks again). A code's mail written
 * at sign-in still tries at once (MailSender.sendClaimed): a person waits for it, and it finds the
 * relay back first. Tries that fail while paused (the rest of a batch in flight) do not lengthen the
 * pause. A command's drain ends at the first such failure, with the rest queued for the server's sender.
 */
export class RelayPause {
  /** Until `until` drains claim nothing, then one message at a time tries it; `outages` counts the tries that found it down. */
  private down: { outages: number; until: number; fault: RelayFault } | null = null;
  /** The recipient of the last reply, if it was a refusal at RCPT TO that may be its alone (faultOf), lower case. */
  private refusedLast: string | null = null;
  /** Recipients refused at RCPT TO since the relay last took a message. */
  private readonly refusedSinceTaken = new Set<string>();
  /**
   * Recipients refused at RCPT TO while the relay took others' mail (a message taken after their refusal),
   * until their own is taken: refused alone, so their refusals repeat nothing (faultOf). At most ALONE_KEPT.
   */
  private readonly refusedAlone = new Set<string>();

  constructor(
    private readonly backoffMs: (attempt: number) => number,
    private readonly log: RelayPauseLog | undefined,
    private readonly onBack: () => void,
    /** The pause began or its fault changed (the fault), or it ended (null). */
    private readonly onChange: (fault: RelayFault | null) => void = () => undefined,
  ) {}

  /**
   * How many more messages a drain may claim now: the pool's free connections (`batch` less those in
   * flight); while the relay cannot be reached, none until its pause is over and then one, alone.
   */
  room(batch: number, inFlight: number, now: number): number {
    if (this.down === null) return batch - inFlight;
    return inFlight === 0 && now >= this.down.until ? 1 : 0;
  }

  /**
   * A send to `recipient` failed: a relay at fault starts or lengthens the pause, an answer from it ends
   * one. True when the failure is the relay's (the message waits rather than fail for good).
   */
  failed(failure: unknown, now: number, recipient = ""): boolean {
    // A failure of unknown kind (not the SMTP transport's) says nothing of the relay: a pause goes on.
    const fault = failure instanceof MailDeliveryError ? this.faultOf(failure, recipient) : (this.down?.fault ?? null);
    if (fault === null) {
      if (failure instanceof MailDeliveryError) this.end(failure.refusedByPolicy ? this.refusedLast : null);
      return false;
    }
    if (this.down !== null && now < this.down.until) return true;
    const outages = (this.down?.outages ?? 0) + 1;
    const told = this.down?.fault === fault;
    this.down = { outages, until: now + this.backoffMs(outages), fault };
    // Once an outage, and again when its kind changes (a relay back up that now refuses the login).
    if (!told) {
      this.log?.warn({ err: failure instanceof Error ? failure.message : String(failure) }, OUTAGE[fault]);
      this.onChange(fault);
    }
    return true;
  }

  /**
   * The relay's fault in a failure, if any. A refusal at RCPT TO that may be this recipient's alone
   * (smtp-replies.ts rcptRefusal, MailDeliveryError's refusedByPolicy: "550 5.7.1 Delivery not authorized, message refused", a receiving
   * domain's rule for one mailbox; "554 5.7.1 Relay access denied" from a relay that relays to its own
   * domains for anyone and refuses only the others) is that message's matter — it fails, or for relaying
   * denied waits, alone — unless it repeats for a different recipient with no other answer between (a
   * relay that relays for nobody refuses every recipient alike) or comes while the relay refuses FAMOS
   * already: then it is the relay's refusal, and everything waits for the operator. The first message a
   * relay refused by policy has failed by then; the rest of a rollout waits.
   */
  private faultOf(failure: MailDeliveryError, recipient: string): RelayFault | null {
    if (!failure.refusedByPolicy) return failure.relay;
    const to = recipient.toLowerCase();
    const last = this.refusedLast;
    const alone = (who: string) => this.refusedAlone.has(who);
    const repeated = this.down?.fault === "refused" || (last !== null && last !== to && !alone(last) && !alone(to));
    this.refusedLast = to;
    this.refusedSinceTaken.add(to);
    return repeated ? "refused" : null;
  }

  /**
   * The relay took a message (to `recipient`): the pause, if any, is over, and the recipients it refused
   * at RCPT TO since are refused alone — a relay relays to its own domains for anyone and refuses only the
   * others, and two such staff addresses, retried in step, would otherwise look like a relay refusing
   * everyone at each of their tries.
   */
  answered(recipient = ""): void {
    const to = recipient.toLowerCase();
    for (const who of this.refusedSinceTaken) {
      if (who === to) continue;
      this.refusedAlone.delete(who);
      this.refusedAlone.add(who);
      if (this.refusedAlone.size > ALONE_KEPT) this.refusedAlone.delete(this.refusedAlone.values().next().value as string);
    }
    this.refusedSinceTaken.clear();
    this.refusedAlone.delete(to);
    this.end(null);
  }

  /** A pause, if any, is over; `refusedLast` is the refusal at RCPT TO to remember, null after any other answer. */
  private end(refusedLast: string | null): void {
    this.refusedLast = refusedLast;
    if (this.down === null) return;
    const { fault } = this.down;
    this.down = null;
    this.log?.info(BACK[fault]);
    this.onChange(null);
    this.onBack();
  }
}
