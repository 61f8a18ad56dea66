import { createRequire } from "node:module";
import type * as PromClient from "prom-client";
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RelayFault } from "../mail/smtp-replies.ts";

/**
 * prom-client, loaded when the first metrics are made: `famos serve` (and the tests' servers) make
 * them; a command has no /metrics (unreadMetrics), and its start skips the library's load.
 */
export function promClient(): typeof PromClient {
  return createRequire(import.meta.url)("prom-client") as typeof PromClient;
}

/** Prometheus metrics of one process. Each instance has its own registry (tests build many). */
export interface Metrics {
  registry: Registry;
  signIns: Counter<"outcome">;
  codesSent: Counter;
  codesConfirmed: Counter;
  codesFailed: Counter;
  mailFailed: Counter;
  mailSent: Counter;
  /** Issue 15: bounces recorded (a report repeated counts once), by kind. */
  mailBounced: Counter<"kind">;
  codeToSmtp: Histogram;
  requestDuration: Histogram<"method" | "route" | "status">;
  outboxDepth: Gauge;
  /** Issue 17: frames in SQLite's write-ahead log at the checkpoint thread's last look (`famos serve` on SQLite). */
  sqliteWalFrames: Gauge;
  /** 1 while request limits are counted in Redis, shared by the instances; 0 while this instance counts on its own. */
  requestLimitsShared: Gauge;
  /** The last SMTP check (serve's at start): 1 with failed_step="none", else 0 with the step that failed. */
  smtpCheckOk: Gauge<"failed_step">;
  /** The sender's relay pause (src/mail/relay-pause.ts): 1 with its fault while on, else 0 with fault="none". */
  mailRelayPaused: Gauge<"fault">;
  /** Issue 13: authenticator-app and recovery codes checked, by factor (app, recovery-code) and outcome (ok, failed). */
  strongFactorChecks: Counter<"factor" | "outcome">;
  /** Authenticator-app secrets and recovery codes read under FAMOS_SECRET_PREVIOUS's key (and kept again under FAMOS_SECRET's), by what. */
  previousSecretReads: Counter<"what">;
  /** Issue 13: factors added and removed, by factor (app, recovery-codes, all) and change (added, removed, renewed). */
  strongFactorChanges: Counter<"factor" | "change">;
  /** Issue 13: passkeys added on Profile. */
  passkeysAdded: Counter;
  /** Issue 13: passkey sign-in assertions, by outcome (confirmed, failed). */
  passkeyAssertions: Counter<"outcome">;
  /** Work that follows a request's answer (web/after-reply.ts: the password reset's code) and failed, by what it was. */
  afterReplyFailed: Counter<"work">;
  /** Work that would have followed a request's answer and was dropped: AFTER_REPLY_LIMIT were already waiting or running. */
  afterReplyDropped: Counter<"work">;
  /** Proxied WebSockets closed because their session ended, by the session's end reason (signout, reset, idle, …). */
  webSocketsClosed: Counter<"reason">;
  /** Proxied WebSocket handshakes refused (429): their session had WEBSOCKETS_PER_SESSION open or in their handshake. */
  webSocketsRefused: Counter;
}

/**
 * Metrics nobody reads: a command's process has no /metrics. Every metric, and whatever a call on one
 * returns, takes any call and does nothing.
 */
export function unreadMetrics(): Metrics {
  // Not a thenable: a result awaited by mistake resolves at once instead of waiting forever.
  const nothing: object = new Proxy(() => nothing, { get: (_target, key) => (key === "then" ? undefined : nothing) });
  return nothing as Metrics;
}

/**
 * How often the event loop's delay is sampled for famos_nodejs_eventloop_lag_* (prom-client's
 * monitorEventLoopDelay). prom-client's 10 ms is a libuv timer that wakes the event loop 100 times a
 * second, busy or idle: an idle `famos serve` spent ~10 ms of CPU a second, most of it those wake-ups
 * (issue 17). Every 100 ms, the percentiles come from 600 samples a minute instead of 6,000.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export function createMetrics(readOutboxDepth?: () => Promise<number>, withDefaults = false): Metrics {
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = promClient();
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: "famos_", eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return {
    registry,
    signIns: new Counter({
      name: "famos_sign_ins_total",
      help: "Sign-in steps by outcome (password-ok, password-refused, code-ok, code-wrong, code-expired, …)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    codesSent: new Counter({ name: "famos_codes_sent_total", help: "One time passcodes created and queued", registers: [registry] }),
    codesConfirmed: new Counter({ name: "famos_codes_confirmed_total", help: "One time passcodes confirmed", registers: [registry] }),
    codesFailed: new Counter({ name: "famos_codes_failed_total", help: "Wrong, expired or void codes typed", registers: [registry] }),
    mailFailed: new Counter({ name: "famos_mail_failed_total", help: "Messages that could not be delivered", registers: [registry] }),
    mailSent: new Counter({ name: "famos_mail_sent_total", help: "Messages the SMTP server accepted", registers: [registry] }),
    mailBounced: new Counter({ name: "famos_mail_bounced_total", help: "Bounces recorded, by kind (hard, soft; forward: of a forward to another mailbox, not the address mailed)", labelNames: ["kind"], registers: [registry] }),
    codeToSmtp: new Histogram({
      name: "famos_code_to_smtp_seconds",
      help: "Time from the code request to the SMTP server accepting its mail",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: "famos_http_request_duration_seconds",
      help: "HTTP request durations",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    afterReplyFailed: new Counter({
      name: "famos_after_reply_failures_total",
      help: "Work that follows a request's answer and failed (logged at error; its user saw the answer, e.g. no reset code was mailed)",
      labelNames: ["work"],
      registers: [registry],
    }),
    afterReplyDropped: new Counter({
      name: "famos_after_reply_dropped_total",
      help: "Work that follows a request's answer and was not started: too much was already waiting or running (logged at warn, at most once a second)",
      labelNames: ["work"],
      registers: [registry],
    }),
    webSocketsClosed: new Counter({
      name: "famos_websockets_session_ended_total",
      help: "Proxied WebSockets closed because the session that opened them ended, by reason (signout, reset, disabled, idle, expired, identity-changed, …)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    webSocketsRefused: new Counter({
      name: "famos_websockets_refused_total",
      help: "Proxied WebSocket handshakes refused with 429: their session already had as many open or in their handshake as one may (logged at warn, at most once a second)",
      registers: [registry],
    }),
    sqliteWalFrames: new Gauge({
      name: "famos_sqlite_wal_frames",
      help: "Frames (pages) in SQLite's write-ahead log at the last background checkpoint",
      registers: [registry],
    }),
    outboxDepth: new Gauge({
      name: "famos_outbox_depth",
      help: "Messages waiting to be sent",
      registers: [registry],
      async collect() {
        // A database outage must not turn /metrics into an error: keep the last value (/readyz reports it).
        if (!readOutboxDepth) return;
        try {
          this.set(await readOutboxDepth());
        } catch {
          // keep the last value
        }
      },
    }),
    requestLimitsShared: new Gauge({
      name: "famos_request_limits_shared",
      help: "1 while request limits are counted in Redis, shared by the instances; 0 while this instance counts them on its own (no FAMOS_REDIS_URL, or Redis not answering)",
      registers: [registry],
    }),
    smtpCheckOk: new Gauge({
      name: "famos_smtp_check_ok",
      help: "Last SMTP check (connect, TLS, authentication): 1 passed; 0 failed, labelled with the failed step",
      labelNames: ["failed_step"],
      registers: [registry],
    }),
    mailRelayPaused: new Gauge({
      name: "famos_mail_relay_paused",
      help: "1 while the sender holds mail back from a relay at fault, labelled with the fault (unreachable; tls: no TLS with the relay; refused: it refuses FAMOS); 0 with fault=\"none\" otherwise",
      labelNames: ["fault"],
      registers: [registry],
    }),
    strongFactorChecks: new Counter({
      name: "famos_strong_factor_checks_total",
      help: "Authenticator-app and recovery codes checked, by factor and outcome (ok, failed)",
      labelNames: ["factor", "outcome"],
      registers: [registry],
    }),
    previousSecretReads: new Counter({
      name: "famos_previous_secret_reads_total",
      help: "Authenticator-app secrets and recovery codes read under FAMOS_SECRET_PREVIOUS (then kept under FAMOS_SECRET), by what (app, recovery-code)",
      labelNames: ["what"],
      registers: [registry],
    }),
    strongFactorChanges: new Counter({
      name: "famos_strong_factor_changes_total",
      help: "Second factors added, renewed or removed, by factor (app, recovery-codes, all)",
      labelNames: ["factor", "change"],
      registers: [registry],
    }),
    passkeysAdded: new Counter({ name: "famos_passkeys_added_total", help: "Passkeys added on Profile", registers: [registry] }),
    passkeyAssertions: new Counter({ name: "famos_passkey_assertions_total", help: "Passkey sign-in assertions by outcome (confirmed, failed)", labelNames: ["outcome"], registers: [registry] }),
  };
}

/** famos_mail_relay_paused as the sender's relay pause is: 1 with its fault, or 0 with fault="none" (null: no pause). */
export function relayPaused(metrics: Metrics, fault: RelayFault | null): void {
  metrics.mailRelayPaused.reset();
  metrics.mailRelayPaused.set({ fault: fault ?? "none" }, fault === null ? 0 : 1);
}
