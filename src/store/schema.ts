import type { ColumnType, Generated } from "kysely";

/** Times are milliseconds since the epoch in every table, on both SQLite and PostgreSQL. */
export interface UsersTable {
  id: string;
  login_id: string;
  /** Lower-cased login ID: unique, so "Alice" and "alice" are one account. */
  login_key: string;
  /**
   * The keyed digest of login_key (src/users/login-digest.ts loginDigest), which its lock counters are
   * keyed by (migration 021): set by userRow, made again at start after FAMOS_SECRET changes. Null
   * in a row an older version created during a rolling upgrade, until the next start fills it.
   */
  login_digest: string | null;
  full_name: string;
  partner_number: string;
  role: "user" | "support" | "admin";
  password_hash: string;
  otp_email: string | null;
  /** When an OTP email was last confirmed; kept through support's reset (null: never enrolled). */
  otp_email_confirmed_at: number | null;
  pending_email: string | null;
  /**
   * Since when the user has a passkey or a confirmed authenticator app; null: neither (migration 026).
   * Kept by markStrongFactors (strong-factors/factors.ts) wherever one is added or removed; the
   * rollout's rule reads it from this row (alwaysTwoFactor).
   */
  strong_factor_at: number | null;
  last_sign_in_at: number | null;
  created_at: number;
  updated_at: number;
  /** When support disabled the account (a leaver); null while it may sign in. */
  disabled_at: number | null;
  /**
   * The partner whose `famos user import --sync` disabled the account; null when enabled or disabled by a
   * person (migration 028). Set and cleared with disabled_at only (account/disable.ts setDisabled); an
   * `--update` row at another partner enables it again (support/import-movers.ts enablesAgain).
   */
  sync_disabled_partner?: string | null;
  /**
   * The SHA-256 (hex) of the password_hash string the last import gave the account (migration 029):
   * a file's hash is a new password only when it differs from it (support/imported-password.ts). Null:
   * no import gave one; "unrecorded": the account was there before migration 029. Sign-in's upgrade,
   * Profile and support's passwords leave it as it is.
   */
  imported_hash_digest?: string | null;
  /** The password is a temporary one set by support, usable until then; 0 once used; minus that time once used by a sign-in before the user's wave (from the start it signs in once more, only to meet a second factor already on file: account/access.ts reopensAtStart); null otherwise. */
  password_temporary_until: number | null;
  /** Issue 16 (migration 007): the user's language (a shipped locale, or "browser" for Profile's "As the browser asks": users/locale.ts FOLLOW_BROWSER) and IANA time zone; null: not chosen. */
  locale?: string | null;
  time_zone?: string | null;
}

/** One sign-in attempt, enrolment or email change: the thing a code is bound to. */
export interface FlowsTable {
  id: string;
  user_id: string;
  /** "password-reset": the self-service reset of issue 11 (FAMOS_PASSWORD_RESET=self). */
  kind: "signin" | "enrol" | "email-change" | "password-reset";
  email: string;
  created_at: number;
  codes_sent: number;
  last_code_at: number | null;
  finished_at: number | null;
  return_to: string | null;
}

export interface CodesTable {
  id: string;
  flow_id: string;
  user_id: string;
  /** HMAC-SHA256(server secret, flow id + code): the code itself is never stored. */
  code_hash: string;
  email: string;
  outbox_id: string | null;
  created_at: number;
  expires_at: number;
  tries: number;
  consumed_at: number | null;
  voided_at: number | null;
  void_reason: string | null;
}

export interface SessionsTable {
  /** SHA-256 of the cookie token: a stolen database yields no usable session. */
  token_hash: string;
  id: string;
  user_id: string;
  /** "password": signed in with a temporary password and the code, must choose a new password first. */
  stage: "enrol" | "otp" | "full" | "password" | "factor-setup";
  flow_id: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  /** When a code was last confirmed in this session (sign-in or step up). */
  verified_at: number | null;
  /**
   * When the console's step-up password was last typed right in this session; null: never, or not since
   * its token last changed (advanceSession). Read by the console's freshness rule only (migration 027).
   */
  stepped_up_at: number | null;
  ip: string;
  user_agent: string;
  ended_at: number | null;
  end_reason: string | null;
}

/** Consecutive failures per key ("password:login:alice", "code:ip:10.0.0.1", …) and the lock they set. */
export interface ThrottlesTable {
  key: string;
  failures: number;
  locked_until: number;
  hard_locked: number;
  updated_at: number;
  /** When the counter's window began (the address counter); 0 for counters without a window. */
  window_started_at: ColumnType<number, number | undefined, number>;
}

/** A browser that completed a sign-in for a login ID (its signed device cookie names the row). */
export interface DevicesTable {
  id: string;
  login_key: string;
  created_at: number;
  last_used_at: number;
  revoked_at: number | null;
}

export interface OutboxTable {
  id: string;
  user_id: string | null;
  kind: string;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  message_id: string;
  state: "queued" | "sending" | "sent" | "failed";
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  /** The kind of the last failed try, as the sender recorded it (migration 020; smtp-replies.ts MailFault), or null. */
  last_fault: string | null;
  created_at: number;
  sent_at: number | null;
  /**
   * A delivery status notification about this message (migration 005): when, hard or soft, and why. bounced_at
   * with no bounce_kind: a report of a forward of it to another mailbox (forward-reports.ts forwardOf).
   */
  bounced_at: number | null;
  bounce_kind: "hard" | "soft" | null;
  bounce_reason: string | null;
  /** When a hard forward report of this message was counted on its address (migration 031; forward-reports.ts forwardCounts), or null: written there alone. */
  forward_counted_at?: number | null;
}

/**
 * The forward reports taken (migration 031; forward-reports.ts forwardOf): per message, a digest of each report's
 * kind and the address it names, so that the same report again is a duplicate and another mailbox's is not.
 */
export interface ForwardReportsTable {
  outbox_id: string;
  report: string;
}

/** What bounces taught FAMOS about one address (lower-cased); see src/bounce/. */
export interface MailAddressesTable {
  address_key: string;
  /** A hard bounce: mail to this address cannot be delivered (until a code sent to it is confirmed). */
  undeliverable_at: number | null;
  undeliverable_reason: string | null;
  soft_bounces: number;
  last_soft_bounce_at: number | null;
  last_soft_reason: string | null;
  /**
   * Of the soft bounces, those about the mailbox itself (full: record-bounce.ts mailboxSoftStatus) since the
   * last confirmed code, and when the first of them came (migration 020): enough over days count as hard.
   */
  mailbox_soft_bounces: Generated<number>;
  mailbox_soft_since: number | null;
  /**
   * Hard bounces of forwards of different messages mailed here (forward-reports.ts forwardOf) since a code sent
   * to the address was last confirmed (migration 030): FORWARD_BOUNCES of them mark it undeliverable.
   */
  forward_bounces: Generated<number>;
  /** The last time a code sent to this address was confirmed: later bounces of older mail are ignored. */
  confirmed_at: number | null;
  updated_at: number;
}

export interface AuditTable {
  id: Generated<number>;
  time: number;
  event: string;
  actor: string | null;
  subject: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string;
}

export interface NoticesTable {
  id: string;
  title: string;
  body: string;
  created_at: number;
  updated_at: number | null;
  ended_at: number | null;
  created_by: string;
}

/** Who runs a periodic job now (issue 11's retention job): one instance at a time. */
/** Migration 023: a fingerprint of the key stored values were made under, per purpose (src/users/login-digest.ts). */
export interface KeyFingerprintsTable {
  purpose: string;
  fingerprint: string;
}

export interface JobLeasesTable {
  name: string;
  holder: string;
  lease_until: number;
}

/** The 2FA rollout's waves: partner_number "*" is the default start (issue 12). */
export interface RolloutPlanTable {
  partner_number: string;
  starts_at: number;
  updated_at: number;
  updated_by: string;
}

/** A user's part in the rollout: announcement address, "Later" choices used, announcement queued. */
export interface RolloutUsersTable {
  user_id: string;
  contact_email: string | null;
  grace_used: Generated<number>;
  announced_at: number | null;
}

/** Issue 13: a registered WebAuthn credential (passkey). */
export interface PasskeysTable {
  id: string;
  user_id: string;
  /** base64url */
  credential_id: string;
  /** base64url COSE public key */
  public_key: string;
  sign_count: number;
  /** Comma-separated AuthenticatorTransport values, or null. */
  transports: string | null;
  /** "singleDevice" or "multiDevice" (the backup eligibility flag). */
  device_type: string;
  /** 1 when the backup state flag was set at the last use. */
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** Issue 13: a user's authenticator app (TOTP); the secret is encrypted at rest. */
export interface AuthenticatorAppsTable {
  user_id: string;
  secret: string;
  created_at: number;
  /** Null until one code from the app was typed. */
  confirmed_at: number | null;
  /** The highest RFC 6238 time step accepted; a code at or below it is a replay. */
  last_step: number | null;
  last_used_at: number | null;
  /** The session that started the setup, which alone may read its key and confirm it (migration 011). */
  setup_session_id?: string | null;
}

/** Issue 13: a WebAuthn challenge, single-use and bound to the session that asked for it (migration 008). */
export interface PasskeyChallengesTable {
  /** SHA-256 (base64url) of the challenge sent to the browser. */
  challenge_hash: string;
  session_id: string;
  purpose: "register" | "signin";
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Issue 13: one single-use recovery code, as a keyed hash. */
export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface Database {
  users: UsersTable;
  flows: FlowsTable;
  codes: CodesTable;
  sessions: SessionsTable;
  throttles: ThrottlesTable;
  outbox: OutboxTable;
  audit: AuditTable;
  notices: NoticesTable;
  devices: DevicesTable;
  job_leases: JobLeasesTable;
  key_fingerprints: KeyFingerprintsTable;
  rollout_plan: RolloutPlanTable;
  rollout_users: RolloutUsersTable;
  mail_addresses: MailAddressesTable;
  forward_reports: ForwardReportsTable;
  passkeys: PasskeysTable;
  authenticator_apps: AuthenticatorAppsTable;
  recovery_codes: RecoveryCodesTable;
  passkey_challenges: PasskeyChallengesTable;
}
