// What the configuration holds once parsed (config.ts parses it from the FAMOS_ variables).
import type { Locale } from "../i18n/locales.ts";
import type { Section } from "./sections.ts";

export type SharedMailboxPolicy = "warn" | "refuse" | "off";

export interface Config {
  production: boolean;
  host: string;
  port: number;
  publicUrl: URL;
  /** FAMOS_PUBLIC_URL was set: the Origin check uses it rather than the request's own host. */
  publicUrlExplicit: boolean;
  /** HTTPS mode: Secure cookies with the __Host- prefix, HSTS. */
  https: boolean;
  databaseUrl: string;
  /**
   * For `famos serve` and `famos doctor` (FAMOS_DATABASE_TIMEOUT): on PostgreSQL the longest a
   * statement may go unanswered, a connection take to open or come free, and a transaction sit idle;
   * on SQLite the longest a write waits for the lock another process holds. Every other command
   * bounds only opening a PostgreSQL connection by it (store/database.ts connectionTimeoutMs).
   */
  databaseTimeoutMs: number;
  /** FAMOS_DRAIN_QUIET: a stopping `famos serve` closes its port once no connection came for this long (web/drain.ts). */
  drainQuietMs: number;
  redisUrl: string | null;
  smtpUrl: string | null;
  mailFrom: string;
  /** FAMOS_MAIL_FROM's address alone (src/mail/mailbox.ts): the envelope sender and the mail domain. */
  mailFromAddress: string;
  /** Raw FAMOS_SECRET; null in development until one is generated under ./data. */
  secret: Buffer | null;
  /**
   * Raw FAMOS_SECRET_PREVIOUS: the secret before a change, whose keys only read what was made under
   * it (an authenticator app's sealed secret, a recovery code's hash) and never make anything new.
   */
  secretPrevious: Buffer | null;
  otp: { ttlMs: number; tries: number; resendWaitMs: number; perAttempt: number; perHour: number };
  lock: { after: number; baseMs: number; maxMs: number; codeHardLock: number };
  rateLimitPerMinute: number;
  /** Failures from untrusted clients per address within a window (password spraying), and ranges exempt. */
  address: { lockAfter: number; windowMs: number; trustedNetworks: string[] };
  /** Failures from a browser holding a device cookie for the login ID: counted against that device alone. */
  deviceLockAfter: number;
  logLevel: LogLevel;
  session: { idleMs: number; maxMs: number; cookieDomain: string | null };
  trustProxy: boolean | number | string[];
  enrolment: { allowedDomains: string[]; sharedMailboxPolicy: SharedMailboxPolicy; sharedMailboxNames: string[] };
  supportEmail: string;
  timezone: string;
  footer: { versionLabel: string; copyright: string; legalUrl: string | null };
  upstreamUrl: URL | null;
  sections: Section[];
  /**
   * The largest WebSocket message FAMOS takes from either side of a proxied WebSocket
   * (FAMOS_WEBSOCKET_MAX_MESSAGE); a larger one closes it with 1009 (src/web/websocket-bounds.ts).
   */
  webSocketMaxMessageBytes: number;
  metricsAllow: string[];
  /** Issue 19.6: how long a request may take to arrive, a connection may sit idle, and stay open between requests. */
  timeouts: { requestMs: number; connectionMs: number; keepAliveMs: number };
  /** Issue 19.4: the allowances of the `Content-Security-Policy: sandbox` put on the protected application's answers. */
  upstreamSandbox: string[];
  /** Account lifecycle (issue 11): temporary passwords, the reset choice, retention. */
  lifecycle: {
    temporaryPasswordTtlMs: number;
    passwordReset: "support" | "self";
    mailKeepMs: number;
    auditKeepMs: number;
    auditPseudonymiseAfterMs: number;
  };
  /** The 2FA rollout (issue 12): "Later" choices after a user's start, and announcement mails per second. */
  rollout: { graceSignIns: number; announceRate: number };
  /** Bounces (issue 15): VERP return paths under `domain`, an inbound SMTP listener, a webhook secret. */
  bounce: { domain: string | null; smtpHost: string; smtpPort: number | null; webhookSecret: string | null };
  /** DKIM signing of outgoing mail (nodemailer's dkim option); null: unsigned. */
  dkim: { domain: string; selector: string; keyFile: string } | null;
  /** Issue 13: roles that must sign in with a passkey or an authenticator app (FAMOS_STRONG_FACTOR_ROLES). */
  strongFactorRoles: string[];
  /**
   * Passkeys (issue 13): the WebAuthn relying party ID — FAMOS_RP_ID, else FAMOS_PUBLIC_URL's host;
   * null when neither is set (development), and then the host each request came to (see
   * src/web/origin.ts), so http://localhost:3000 works out of the box.
   */
  passkeys: { rpId: string | null };
  /** Issue 16: the language of a reader with no saved choice and no browser language FAMOS ships. */
  defaultLocale: Locale;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
