import type { CodeMailKind, OutboxMessage } from "./outbox.ts";
import { claimDueMail, renewLease, withdrawWaitingMail } from "./outbox.ts";
import type { SenderDeps, SenderOptions } from "./sender.ts";

/**
 * The sender's claims on the outbox (sender.ts): taking due mail (claimDue), and keeping a claimed
 * message's claim while it waits for one of the SMTP pool's connections (reachServer, leaveServer).
 */
export class MailClaims {
  /** The last claim failed: the next failure is not logged again, and the next success says the outage ended. */
  private outboxUnreadable = false;
  /** Claims of due mail in progress, of any drain: their messages are not being sent yet. */
  private readonly claiming = new Set<Promise<unknown>>();
  /** Messages at the SMTP server now, drained and handed over alike: at most `batch`, the pool's connections. */
  private atServer = 0;
  /** Messages waiting for a connection: codes a person who proved herself waits for (waitsFirst) before the rest. */
  private readonly waitingFirst: (() => void)[] = [];
  private readonly waitingForServer: (() => void)[] = [];

  constructor(
    private readonly deps: Pick<SenderDeps, "db" | "dialect" | "clock" | "logger">,
    private readonly options: Pick<SenderOptions, "leaseMs" | "batch" | "scrubBodies">,
  ) {}

  /**
   * Claims up to `room` due messages and hands them to `take`, in the same turn as the claim stops
   * counting as in progress: another drain must never see neither (claimsSettled). None when the
   * outbox cannot be read, logged once an outage (not at every poll, every 2 s while the database is
   * down), with its cause.
   */
  async claimDue(room: number, take: (batch: readonly OutboxMessage[]) => void): Promise<number> {
    let batch: OutboxMessage[] = [];
    const claim = claimDueMail(this.deps.db, this.deps.dialect, this.deps.clock.now(), this.options.leaseMs, room, { scrub: this.options.scrubBodies });
    this.claiming.add(claim);
    try {
      batch = await claim;
      if (this.outboxUnreadable) this.deps.logger?.info("the mail outbox can be read again");
      this.outboxUnreadable = false;
    } catch (error) {
      if (!this.outboxUnreadable) this.deps.logger?.error({ err: error }, "could not read the mail outbox");
      this.outboxUnreadable = true;
    }
    take(batch);
    this.claiming.delete(claim);
    return batch.length;
  }

  /** Waits for the claims in progress now (not for those after them). */
  async claimsSettled(): Promise<void> {
    if (this.claiming.size > 0) await Promise.allSettled([...this.claiming]);
  }

  /**
   * Waits for one of the pool's connections, so a message waits here rather than inside the SMTP
   * pool, where its lease would run on unseen: a burst of codes (a dealership opening, a slow relay)
   * would have the last ones taken again by a drain and mailed twice. One that waited past half its
   * lease renews it before it goes; "lost" when the claim was lost meanwhile (another sender has it).
   * One that waited is withdrawn ("withdrawn") when its code stopped working meanwhile: a staff member
   * who pressed Regenerate OTP at a slow relay must not get the replaced code after, or beside, the new
   * one (the claim's withdrawDeadCodeMail ran before the wait; one that did not wait was just checked).
   * Likewise "leaver" when its account was disabled meanwhile (the leaver rule the disable and the claim
   * ask), so a notice claimed before the disable does not reach a leaver: both asked in one statement
   * (withdrawWaitingMail). "go" holds a connection until leaveServer.
   */
  async reachServer(message: OutboxMessage): Promise<"go" | "lost" | "withdrawn" | "leaver"> {
    const waited = this.atServer >= this.options.batch;
    if (waited) await new Promise<void>((resolve) => (waitsFirst(message) ? this.waitingFirst : this.waitingForServer).push(resolve));
    else this.atServer += 1;
    const now = this.deps.clock.now();
    try {
      const withdrawn = waited ? await withdrawWaitingMail(this.deps.db, message, now, { scrub: this.options.scrubBodies }) : null;
      if (withdrawn !== null) {
        this.leaveServer();
        return withdrawn;
      }
    } catch (error) {
      // Sent as before: a dead code's mail is a nuisance, a live one lost keeps a user out.
      this.deps.logger?.error({ err: error, mail: message.id }, "could not check a waiting mail's code and account");
    }
    if (message.lease_until === null || now < message.lease_until - this.options.leaseMs / 2) return "go";
    try {
      if (await renewLease(this.deps.db, message, now + this.options.leaseMs)) return "go";
    } catch (error) {
      this.deps.logger?.error({ err: error, mail: message.id }, "could not renew a mail's lease");
    }
    this.leaveServer();
    return "lost";
  }

  /** The connection goes to the next message waiting, if any: a code waitsFirst asks for before the rest. */
  leaveServer(): void {
    const next = this.waitingFirst.shift() ?? this.waitingForServer.shift();
    if (next) next();
    else this.atServer -= 1;
  }
}

/**
 * The mail that takes a free connection first: a code someone waits for at OTP capture who proved her
 * password (sign-in, enrolment) or holds a session (email change). Everything else — "Forgot
 * password?"'s code, which a login ID alone asks for, notices, announcements — waits behind them, first
 * come first served: at a relay slow to answer, a stranger's burst of reset requests for a dealership's
 * login IDs would otherwise put every staff member's sign-in code behind it (SPEC "Locks": a stranger
 * who knows a login ID cannot keep its owner out).
 */
const FIRST_KINDS: ReadonlySet<CodeMailKind> = new Set<CodeMailKind>(["code.signin", "code.enrol", "code.email-change"]);
export function waitsFirst(message: Pick<OutboxMessage, "kind">): boolean {
  return passwordProvenCode(message.kind);
}

/**
 * A code mail whose flow passed the password (sign-in, enrolment) or holds a session (email change): FIRST_KINDS,
 * the one list. Not "Forgot password?"'s, which a login ID alone asks for (waitsFirst; and its forward reports
 * count nothing on the address: forward-reports.ts forwardCounts).
 */
export function passwordProvenCode(kind: string): boolean {
  return (FIRST_KINDS as ReadonlySet<string>).has(kind);
}
