import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Clock } from "../platform/clock.ts";
import type { Dialect } from "../store/database.ts";
import type { Database } from "../store/schema.ts";
import { MailClaims } from "./claims.ts";
import { codeExpiry, markAttemptFailed, markSent, type OutboxMessage } from "./outbox.ts";
import { RelayPause } from "./relay-pause.ts";
import type { RelayFault } from "./smtp-replies.ts";
import { MailDeliveryError, type MailTransport } from "./transport.ts";

export interface SenderOptions {
  /** How often to look for due messages when nobody wakes the sender (retries, other instances). */
  pollMs: number;
  /**
   * How long a message without a code (notices, announcements) is tried before it is failed for good.
   * A code's mail is tried for as long as its code works instead (nextTry).
   */
  retryWindowMs: number;
  /** A message claimed longer ago than this is taken again: its sender is presumed dead. */
  leaseMs: number;
  batch: number;
  /** Delay before the n-th retry (n from 1) of a message `ageMs` old. */
  backoffMs(attempt: number, ageMs?: number): number;
  /** Empty a message's bodies once it is sent or failed for good (off only for the development mailbox). */
  scrubBodies: boolean;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_SENDER_OPTIONS: SenderOptions = {
  pollMs: 2000,
  // As an MTA keeps a deferred message (Postfix's maximal_queue_lifetime is days): a notice a relay
  // refused through a night's maintenance still arrives in the morning; a day later it is news no more.
  retryWindowMs: 24 * HOUR,
  leaseMs: 60_000,
  /** The SMTP pool's connections (src/mail/transport.ts): each message of a batch has its own, and finishes inside the lease. */
  batch: 8,
  /**
   * Doubling from 2 s, at most a minute apart while the message is under an hour old: a relay that
   * greylists (Postgrey: 300 s, and with VERP every message is a new triplet) takes the code at the
   * first try after its delay, a minute late at most, while the code still works. Older mail (notices
   * only: codes expire first) is tried every 15 minutes, tens of tries a day rather than thousands.
   */
  backoffMs: (attempt, ageMs = 0) => (ageMs >= HOUR ? 15 * MINUTE : Math.min(MINUTE, 2000 * 2 ** (attempt - 1))),
  scrubBodies: true,
};

export interface SenderDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  clock: Clock;
  transport: MailTransport;
  from: string;
  logger?: Logger;
  onSent?(message: OutboxMessage, now: number): void;
  onFailed?(message: OutboxMessage, permanent: boolean): void;
  /**
   * The SMTP server refused the recipient for its address (MailDeliveryError.addressRefused): told
   * before the message is marked failed, so a page that sees it failed already sees why.
   */
  onAddressRefused?(message: OutboxMessage, refusal: { status: string | null; reason: string }): Promise<void>;
  /** The relay pause began, changed its fault, or ended (null): /metrics' famos_mail_relay_paused. */
  onRelayPause?(fault: RelayFault | null): void;
}

/**
 * Sends the outbox. `wake()` after a commit sends at once (no polling delay on the sign-in path);
 * the poll catches retries and messages written by other instances or by a sender that died.
 */
export class MailSender {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  /** Started once already: the handoff is checked at the first start only. */
  private started = false;
  private closing = false;
  /** Drains waiting for room or for new mail (tests may run several at once). */
  private readonly waiting = new Set<() => void>();
  /** Every message being handed to SMTP, by whichever drain claimed it. */
  private readonly sending = new Set<Promise<void>>();
  /** Messages handed over by sendClaimed, outside any drain. */
  private readonly direct = new Set<Promise<void>>();
  /** This process queued mail (a wake after its commit, or a message handed over claimed). */
  private queued = false;
  /** The messages at the SMTP server now, by id: what a stop cut short hands back (abandon). */
  private readonly atServerNow = new Map<string, OutboxMessage>();
  /** The relay could not be reached: how many messages the drains may claim meanwhile (relay-pause.ts). */
  private readonly relay: RelayPause;
  /** Due mail claimed, and claims kept while a message waits for a connection (claims.ts). */
  private readonly claims: MailClaims;

  constructor(private readonly deps: SenderDeps, private readonly options: SenderOptions = DEFAULT_SENDER_OPTIONS) {
    this.relay = new RelayPause((attempt) => options.backoffMs(attempt), deps.logger, () => this.look(), deps.onRelayPause);
    this.claims = new MailClaims(deps, options);
  }

  start(): void {
    // Once, at start: a transport that sends composed messages through sendMail costs CPU per message (raw-handoff.ts).
    if (!this.started && this.deps.transport.handoffPath?.() === "sendMail") {
      this.deps.logger?.warn("the SMTP transport is not nodemailer's CommonJS SMTP pool: every message goes through sendMail, the slower path (raw-handoff.ts)");
    }
    this.started = true;
    this.stopped = false;
    this.timer = setInterval(() => this.look(), this.options.pollMs);
    this.timer.unref();
    this.look();
  }

  /** Stops polling and waits for messages being sent now, so none is left half-sent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await Promise.allSettled([...this.direct]);
    this.deps.transport.close();
  }

  /**
   * The process is about to end before the sends at the SMTP server finished (serve's shutdown bound,
   * an operator's second signal): each goes back to the queue, due now, for any instance, instead of
   * waiting out its lease and reaching the user a minute late. A send the server accepted just before
   * is then sent twice, as after any cut: at least once, never lost.
   */
  async abandon(): Promise<void> {
    await Promise.allSettled([...this.atServerNow.values()].map((message) => this.handBack(message, "cut short: the sender was stopped")));
  }

  /** Mail was queued: send it now. */
  wake(): void {
    this.queued = true;
    this.look();
  }

  /** Claims and sends what is due, or has the drain that runs look again when it is done. */
  private look(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      this.kick();
      return;
    }
    this.running = this.drainDue().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.look();
      }
    });
  }

  /**
   * Sends until nothing is due. Up to `batch` messages are in flight at once, and a message queued
   * meanwhile (a wake) is claimed as soon as there is room, not after the slowest of the messages
   * before it: under load a code's mail never waits for a whole batch (issue 17). Exposed for tests
   * and for `famos` commands that run without a server; these also wait for the mail sendClaimed is
   * handing over (not claimed again after it: what it leaves queued, a retry, is due later). A hand-back
   * under way (a sender not started, or stopping: the message queued again, due now) is waited for
   * before the claim, so the claim takes it whatever the statements' timing (the claim runs at once
   * since it is compiled once; it used to come after the hand-back by Kysely's promise hops alone).
   */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.direct]);
    await this.drainDue();
    await Promise.allSettled([...this.direct]);
  }

  /**
   * A command's last step (famos commands run without a server): drain, if the command queued mail.
   * One that queued none does not claim the outbox, a write: `famos user show` beside a process that
   * holds the database answers from what it read, without waiting out the busy timeout to report an
   * outbox it had no business with. True when it queued mail.
   */
  async drainQueued(): Promise<boolean> {
    if (this.queued) await this.drain();
    return this.queued;
  }

  private async drainDue(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let more = true;
    for (;;) {
      const room = this.room(inFlight.size);
      if (room > 0 && (more || this.again) && !this.closing) {
        this.again = false;
        // Each message goes into `sending` in the turn its claim ends (claims.ts): another drain never sees neither.
        const claimed = await this.claims.claimDue(room, (batch) => {
          for (const message of batch) {
            const sending: Promise<void> = this.sendOne(message).finally(() => {
              inFlight.delete(sending);
              this.sending.delete(sending);
              this.kick();
            });
            inFlight.add(sending);
            this.sending.add(sending);
          }
        });
        // A full claim may have left more due; a short one took everything due now.
        more = claimed === room;
        if (more) continue;
      }
      // Woken while claiming: claim again at once if there is room.
      if (this.again && !this.closing && this.room(inFlight.size) > 0) continue;
      if (inFlight.size === 0) {
        // "Until nothing is due" includes mail another drain of this sender (the background one)
        // claimed and is still handing over, or is claiming now (on PostgreSQL this drain's claim
        // skips the rows that one has locked and may come back first, empty): wait for that claim,
        // then for the sends, then look once more. Not again for claims after it: two drains with
        // nothing due would wait on each other's next claim for ever.
        if (this.closing) return;
        await this.claims.claimsSettled();
        if (this.sending.size === 0) return;
        await Promise.allSettled([...this.sending]);
        more = true;
        continue;
      }
      // Wait for a send to finish (room again) or for a wake (new mail).
      await new Promise<void>((resolve) => this.waiting.add(resolve));
    }
  }

  /** How many more messages a drain may claim now: the pool's free connections, or the relay pause's (relay-pause.ts). */
  private room(inFlight: number): number {
    return this.relay.room(this.options.batch, inFlight, this.deps.clock.now());
  }

  /**
   * The lease end with which this sender takes a message as it is written (enqueueClaimedMail, then
   * sendClaimed after its commit), or null when it takes none now (stopped, not started, closing):
   * the message is then queued for whichever sender polls first.
   */
  leaseUntil(now: number): number | null {
    return this.stopped || this.closing ? null : now + this.options.leaseMs;
  }

  /**
   * Hands a message written already claimed by this sender (leaseUntil) to SMTP at once, after the
   * commit that wrote it and in the same turn of the event loop, before the request that queued it has
   * answered: not after a wake, a drain's look for due mail and its batch (issue 17: a code's mail
   * must not queue behind the next password hashes), and with no claim statement of its own. No drain
   * takes it while the lease holds, so it is sent by this sender only. Failures go the drain's way:
   * retried with backoff, or failed. If the sender began to stop meanwhile, the message goes back to
   * the queue as a try that did not happen, for any sender to send at once, rather than wait for its
   * lease to run out.
   */
  sendClaimed(message: OutboxMessage): void {
    this.queued = true;
    const sending: Promise<void> = (this.stopped || this.closing ? this.handBack(message) : this.sendOne(message)).finally(() => this.direct.delete(sending));
    this.direct.add(sending);
  }

  private async handBack(message: OutboxMessage, reason = "not sent: the sender was stopping"): Promise<void> {
    try {
      await markAttemptFailed(this.deps.db, message, reason, this.deps.clock.now(), { scrub: this.options.scrubBodies });
    } catch (error) {
      // Its lease runs out and a drain takes it then.
      this.deps.logger?.error({ err: error, mail: message.id }, "could not put a mail back in the outbox");
    }
  }

  private kick(): void {
    for (const resume of this.waiting) resume();
    this.waiting.clear();
  }

  /**
   * The one retry rule: when a message that failed for a while (4xx, no connection, no answer) is tried
   * next, or null when that try is the last. A code's mail is tried for as long as its code works: a
   * next try at or after its expiry would only be withdrawn (carriesDeadCode), so this one is the last,
   * failed with the relay's words (OTP capture says so and offers Regenerate OTP; IT's metrics count it).
   * Mail without a code is tried for retryWindowMs.
   */
  private async nextTry(message: OutboxMessage, now: number): Promise<number | null> {
    const at = now + this.options.backoffMs(message.attempts, now - message.created_at);
    const until = (await codeExpiry(this.deps.db, message)) ?? message.created_at + this.options.retryWindowMs;
    return at < until ? at : null;
  }

  private async sendOne(message: OutboxMessage): Promise<void> {
    const { db, transport, from, clock, logger } = this.deps;
    const log = { mail: message.id, kind: message.kind, attempts: message.attempts };
    const reached = await this.claims.reachServer(message);
    if (reached === "withdrawn") {
      logger?.info(log, "mail not sent: its code no longer works");
      return;
    }
    if (reached === "leaver") {
      logger?.info(log, "mail not sent: the account was disabled before it went");
      return;
    }
    if (reached === "lost") {
      logger?.warn(log, "mail waited past its lease and another sender has it; not sent here");
      return;
    }
    let failure: unknown = null;
    this.atServerNow.set(message.id, message);
    try {
      await transport.send(message, from);
    } catch (error) {
      failure = error;
    } finally {
      this.atServerNow.delete(message.id);
      this.claims.leaveServer();
    }
    try {
      if (failure === null) {
        this.relay.answered(message.recipient);
        const now = clock.now();
        // If this fails (database gone) the message stays leased and is sent again once the lease
        // runs out, with the same Message-ID: at least once, never lost.
        if (await markSent(db, message, now, { scrub: this.options.scrubBodies })) {
          logger?.info(log, "mail sent");
          this.deps.onSent?.(message, now);
        } else {
          logger?.warn(log, "mail sent after its lease ran out; another sender may send it again");
        }
        return;
      }
      // The relay's fault (relay-pause.ts, a policy refusal that repeats too) fails no message for good.
      const relays = this.relay.failed(failure, clock.now(), message.recipient);
      const permanent = failure instanceof MailDeliveryError && failure.permanent && !relays;
      const retryAt = permanent ? null : await this.nextTry(message, clock.now());
      const last = retryAt === null;
      const reason = failure instanceof Error ? failure.message : String(failure);
      // A try put back is routine (a relay's 4yz, its pause, which RelayPause warns of once): info, in the
      // server's log at the default level, below what a famos command prints (warn), whose closing line
      // counts the mail it left waiting with the relay's words. A message failed for good is a warning.
      if (last) logger?.warn({ ...log, permanent, retryAt, err: reason }, "mail failed");
      else logger?.info({ ...log, permanent, retryAt, err: reason }, "mail deferred");
      if (failure instanceof MailDeliveryError && failure.addressRefused) await this.deps.onAddressRefused?.(message, { status: failure.addressRefused.status, reason });
      const fault = failure instanceof MailDeliveryError ? failure.fault : null;
      if ((await markAttemptFailed(db, message, reason, retryAt, { scrub: this.options.scrubBodies, fault })) && last) this.deps.onFailed?.(message, permanent);
    } catch (error) {
      logger?.error({ ...log, err: error }, "could not record the outcome of a mail");
    }
  }
}
