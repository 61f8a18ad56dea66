import { parseRpId, parseStrongFactorRoles } from "./factor-settings.ts";
import { parseBounce, parseDkim } from "./mail-settings.ts";
import { isCidr, parseTrustProxy } from "./networks.ts";
import { list, Problems, UNREADABLE_SERVER_ADDRESS } from "./problems.ts";
import { DEFAULT_SECTIONS, DEFAULT_UPSTREAM_SANDBOX, parseSandbox, parseSections } from "./sections.ts";
import { canonicalTimeZone, isLocale, LOCALES, type Locale } from "../i18n/locales.ts";
import { isOneAddress, parseMailbox } from "../mail/mailbox.ts";
import { smtpUrlProblem } from "../mail/smtp-url.ts";
import { databaseUrlProblem } from "../store/database-url.ts";
import { LOG_LEVELS, type Config, type LogLevel } from "./config-type.ts";
import { parseEnrolment } from "./enrolment-settings.ts";
import { maskSetting } from "./mask.ts";
import { decodeSecret } from "./secret.ts";
import { SettingReader, type Env } from "./setting-reader.ts";

// The configuration's shape and parts parsed elsewhere, where every importer has always found them.
export { LOG_LEVELS, type Config, type LogLevel, type SharedMailboxPolicy } from "./config-type.ts";
export { DEFAULT_SHARED_MAILBOX_NAMES } from "./enrolment-settings.ts";
export { decodeSecret } from "./secret.ts";

/**
 * Request-rate default per address and minute on the sign-in, code and regenerate routes. Only
 * requests from browsers without a device cookie for the login ID and without a session count, so
 * at opening time a dealership of 100 staff behind one address spends 100 password posts plus its
 * typos; 300 leaves room for two typos each (measured: scripts/dealership.ts).
 */
export const DEFAULT_RATE_LIMIT = 300;

/**
 * FAMOS_WEBSOCKET_MAX_MESSAGE's default: ws's own (100 MiB) let any signed-in user make FAMOS buffer
 * that much per message. 1 MiB is Socket.IO's default (maxHttpBufferSize) and far above what live
 * updates and forms of a point-of-sale application send; an application that sends files over its
 * WebSocket raises it.
 */
export const DEFAULT_WEBSOCKET_MAX_MESSAGE = 1024 * 1024;

const CRLF = /[\r\n]/;

/**
 * `defaults`: each setting left unset that the parser gave a value of its own, with that value as the
 * setting would be written (`famos config` shows it). A setting unset with no value is not in it.
 */
export type ConfigResult = ({ ok: true; config: Readonly<Config> } | { ok: false; errors: string[] }) & { defaults: ReadonlyMap<string, string> };

/** Production mode (SPEC "Development mode"): NODE_ENV=production, and nothing else. */
export function isProduction(env: Env): boolean {
  return env.NODE_ENV === "production";
}

/**
 * Parses every FAMOS_ variable once at start. All problems are reported together, each naming its
 * variable, and the result is frozen.
 */
export function loadConfig(env: Env): ConfigResult {
  const problems = new Problems();
  const production = isProduction(env);
  // Every setting's value goes through these: trimmed, bounded, its default recorded where taken.
  const { read, byDefault, integer, duration, byteSize, defaults } = new SettingReader(env, problems);

  const host = read("FAMOS_HOST") ?? byDefault("FAMOS_HOST", production ? "0.0.0.0" : "localhost");
  const port = integer("FAMOS_PORT", 3000, 0, 65535);

  let publicUrl = new URL(`http://localhost:${port}`);
  const rawPublic = read("FAMOS_PUBLIC_URL");
  if (rawPublic === undefined) byDefault("FAMOS_PUBLIC_URL", publicUrl.origin);
  else {
    try {
      const url = new URL(rawPublic);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("protocol");
      publicUrl = url;
    } catch {
      problems.add("FAMOS_PUBLIC_URL", `must be an http: or https: address (got "${rawPublic}")`);
    }
  }

  const databaseUrl = read("FAMOS_DATABASE_URL") ?? byDefault("FAMOS_DATABASE_URL", "sqlite:./data/famos.db");
  const databaseProblem = databaseUrlProblem(databaseUrl);
  // The value may hold a password: quoted as `famos config` shows it.
  if (databaseProblem !== null) problems.add("FAMOS_DATABASE_URL", `${databaseProblem} (got "${maskSetting("FAMOS_DATABASE_URL", databaseUrl)}")`);

  // A sign-in's statements take a millisecond; a database that has not answered one in this time is
  // hung or cut off, and the request fails rather than waiting for ever (store/statement-bound.ts).
  const databaseTimeoutMs = duration("FAMOS_DATABASE_TIMEOUT", "5s", 100, 600_000);

  // A stopping server closes its port once no connection came for this long (web/drain.ts): longer
  // behind a balancer that learns of the stop only from /readyz, every probe period. At most the
  // drain's own bound (DRAIN_LIMIT_MS, 10 s), which ends the drain whatever this is.
  const drainQuietMs = duration("FAMOS_DRAIN_QUIET", "2s", 100, 10_000);

  const redisUrl = read("FAMOS_REDIS_URL") ?? null;
  if (redisUrl !== null && !/^rediss?:\/\/.+/.test(redisUrl)) {
    problems.add("FAMOS_REDIS_URL", "must be a redis:// or rediss:// address");
  } else if (redisUrl !== null && !URL.canParse(redisUrl)) {
    // ioredis reads it with URL when `famos serve` opens it, after the database's migration: a stack trace.
    problems.add("FAMOS_REDIS_URL", UNREADABLE_SERVER_ADDRESS);
  }

  const smtpUrl = read("FAMOS_SMTP_URL") ?? null;
  const smtpProblem = smtpUrl === null ? null : smtpUrlProblem(smtpUrl);
  if (smtpProblem !== null) problems.add("FAMOS_SMTP_URL", smtpProblem);
  if (production && smtpUrl === null) problems.add("FAMOS_SMTP_URL", "is required in production");

  const mailFrom = read("FAMOS_MAIL_FROM") ?? byDefault("FAMOS_MAIL_FROM", production ? "" : "FAMOS <no-reply@localhost>");
  if (production && !read("FAMOS_MAIL_FROM")) problems.add("FAMOS_MAIL_FROM", "is required in production");
  const sender = parseMailbox(mailFrom);
  if (CRLF.test(env.FAMOS_MAIL_FROM ?? "")) problems.add("FAMOS_MAIL_FROM", "must be one line");
  else if (mailFrom !== "" && sender === null) {
    problems.add("FAMOS_MAIL_FROM", `must be one mailbox, such as no-reply@dealer.example or FAMOS <no-reply@dealer.example> (a name with a comma goes in quotes); got "${mailFrom}"`);
  }
  const mailFromAddress = sender?.address ?? "";

  let secret: Buffer | null = null;
  const rawSecret = read("FAMOS_SECRET");
  if (rawSecret !== undefined) {
    secret = decodeSecret(rawSecret);
    if (secret === null) problems.add("FAMOS_SECRET", "must be at least 32 random bytes, written as hex or base64");
  } else if (production) {
    problems.add("FAMOS_SECRET", "is required in production (at least 32 random bytes, hex or base64)");
  }

  let secretPrevious: Buffer | null = null;
  const rawPrevious = read("FAMOS_SECRET_PREVIOUS");
  if (rawPrevious !== undefined) {
    secretPrevious = decodeSecret(rawPrevious);
    if (secretPrevious === null) problems.add("FAMOS_SECRET_PREVIOUS", "must be at least 32 random bytes, written as hex or base64");
    else if (secret?.equals(secretPrevious)) problems.add("FAMOS_SECRET_PREVIOUS", "is FAMOS_SECRET itself: give the secret before the change, or leave it unset");
  }

  const otp = {
    ttlMs: duration("FAMOS_OTP_TTL", "15m", 30_000, 86_400_000),
    tries: integer("FAMOS_OTP_TRIES", 5, 1, 100),
    resendWaitMs: duration("FAMOS_OTP_RESEND_WAIT", "30s", 0, 3_600_000),
    perAttempt: integer("FAMOS_OTP_PER_ATTEMPT", 5, 1, 1000),
    perHour: integer("FAMOS_OTP_PER_HOUR", 10, 0, 1_000_000),
  };
  const lock = {
    after: integer("FAMOS_LOCK_AFTER", 5, 1, 1_000_000),
    baseMs: duration("FAMOS_LOCK_BASE", "1m", 1000, 86_400_000),
    maxMs: duration("FAMOS_LOCK_MAX", "1h", 1000, 7 * 86_400_000),
    codeHardLock: integer("FAMOS_CODE_HARD_LOCK", 100, 1, 1_000_000_000),
  };
  if (lock.maxMs < lock.baseMs) problems.add("FAMOS_LOCK_MAX", "must not be shorter than FAMOS_LOCK_BASE");

  const rateLimitPerMinute = integer("FAMOS_RATE_LIMIT", DEFAULT_RATE_LIMIT, 0, 1_000_000_000);
  const address = {
    lockAfter: integer("FAMOS_ADDRESS_LOCK_AFTER", 50, 1, 1_000_000),
    windowMs: duration("FAMOS_ADDRESS_WINDOW", "15m", 1000, 7 * 86_400_000),
    trustedNetworks: list(read("FAMOS_TRUSTED_NETWORKS")),
  };
  for (const range of address.trustedNetworks) {
    if (!isCidr(range)) problems.add("FAMOS_TRUSTED_NETWORKS", `"${range}" is not an address or a CIDR range such as 203.0.113.0/24`);
  }
  const deviceLockAfter = integer("FAMOS_DEVICE_LOCK_AFTER", 10, 1, 1_000_000);
  const logLevel = (read("FAMOS_LOG_LEVEL") ?? byDefault("FAMOS_LOG_LEVEL", "info")) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.add("FAMOS_LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")} (got "${logLevel}")`);
  const session = {
    idleMs: duration("FAMOS_SESSION_IDLE", "30m", 60_000, 7 * 86_400_000),
    maxMs: duration("FAMOS_SESSION_MAX", "12h", 60_000, 30 * 86_400_000),
    cookieDomain: read("FAMOS_COOKIE_DOMAIN") ?? null,
  };
  if (session.cookieDomain !== null && !/^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(session.cookieDomain)) {
    problems.add("FAMOS_COOKIE_DOMAIN", "must be a domain name such as dealer.example");
  }

  const trustProxy = parseTrustProxy(read("FAMOS_TRUST_PROXY") ?? byDefault("FAMOS_TRUST_PROXY", "off"), problems);

  const enrolment = parseEnrolment(read, byDefault, problems);

  const supportEmail = read("FAMOS_SUPPORT_EMAIL") ?? byDefault("FAMOS_SUPPORT_EMAIL", production ? "" : "support@localhost");
  if (production && !read("FAMOS_SUPPORT_EMAIL")) problems.add("FAMOS_SUPPORT_EMAIL", "is required in production");
  else if (!isOneAddress(supportEmail)) problems.add("FAMOS_SUPPORT_EMAIL", "must be an email address");

  const typedZone = read("FAMOS_TIMEZONE") ?? byDefault("FAMOS_TIMEZONE", "Europe/London");
  // As Intl names it ("europe/london" is "Europe/London"), as a user's saved zone is stored.
  const timezone = canonicalTimeZone(typedZone) ?? typedZone;
  if (canonicalTimeZone(typedZone) === null) problems.add("FAMOS_TIMEZONE", `is not a time zone name such as Europe/London (got "${typedZone}")`);

  const footer = {
    versionLabel: env.FAMOS_VERSION_LABEL ?? byDefault("FAMOS_VERSION_LABEL", "FAMOS Version 9.0 - POS 12.20.05"),
    copyright: env.FAMOS_COPYRIGHT ?? "",
    legalUrl: read("FAMOS_LEGAL_URL") ?? null,
  };
  if (footer.legalUrl !== null && !/^(https?:\/\/|\/)/.test(footer.legalUrl)) {
    problems.add("FAMOS_LEGAL_URL", "must be an http(s) address or a path starting with /");
  }

  let upstreamUrl: URL | null = null;
  const rawUpstream = read("FAMOS_UPSTREAM_URL");
  if (rawUpstream !== undefined) {
    try {
      upstreamUrl = new URL(rawUpstream);
      if (upstreamUrl.protocol !== "http:" && upstreamUrl.protocol !== "https:") throw new Error();
    } catch {
      problems.add("FAMOS_UPSTREAM_URL", "must be an http: or https: address");
      upstreamUrl = null;
    }
    // The proxy sends no credentials of the address (the application's own sign-in is its business),
    // and a setting that is no secret is shown as it is: neither should take them unnoticed.
    if (upstreamUrl !== null && (upstreamUrl.username !== "" || upstreamUrl.password !== "")) {
      problems.add("FAMOS_UPSTREAM_URL", "must not hold a user name or password: FAMOS does not send them to the application; give the address alone");
      upstreamUrl = null;
    }
  }

  const webSocketMaxMessageBytes = byteSize("FAMOS_WEBSOCKET_MAX_MESSAGE", DEFAULT_WEBSOCKET_MAX_MESSAGE, 1024, 64 * 1024 * 1024);
  const sections = parseSections(read("FAMOS_SECTIONS") ?? byDefault("FAMOS_SECTIONS", DEFAULT_SECTIONS.map((s) => s.path).join(",")), problems);
  const metricsAllow = list(read("FAMOS_METRICS_ALLOW") ?? byDefault("FAMOS_METRICS_ALLOW", "127.0.0.1/8,::1"));
  // Checked here: a bad prefix length made every /metrics request fail, and a name was ignored.
  for (const range of metricsAllow) {
    if (!isCidr(range)) problems.add("FAMOS_METRICS_ALLOW", `"${range}" is not an address or a CIDR range such as 10.20.0.0/16`);
  }
  const graceSignIns = integer("FAMOS_2FA_GRACE_SIGNINS", 0, 0, 100);
  // Announcement mails per second, written "5" or "5/s".
  const rawRate = read("FAMOS_ANNOUNCE_RATE") ?? byDefault("FAMOS_ANNOUNCE_RATE", "5");
  const rate = /^(\d{1,4})(\/s)?$/.exec(rawRate);
  const announceRate = rate && Number(rate[1]) >= 1 && Number(rate[1]) <= 1000 ? Number(rate[1]) : null;
  if (announceRate === null) problems.add("FAMOS_ANNOUNCE_RATE", `must be mails per second from 1 to 1000, such as 5 or 5/s (got "${rawRate}")`);
  const rollout = { graceSignIns, announceRate: announceRate ?? 5 };
  const bounce = parseBounce(read, read("FAMOS_BOUNCE_SMTP_HOST") ?? byDefault("FAMOS_BOUNCE_SMTP_HOST", host), problems);
  const dkim = parseDkim(read, problems);

  // Issue 19.6: a client that trickles its request (slowloris) is cut after FAMOS_REQUEST_TIMEOUT.
  const timeouts = {
    requestMs: duration("FAMOS_REQUEST_TIMEOUT", "60s", 1000, 3_600_000),
    connectionMs: duration("FAMOS_CONNECTION_TIMEOUT", "2m", 1000, 3_600_000),
    keepAliveMs: duration("FAMOS_KEEP_ALIVE_TIMEOUT", "72s", 1000, 3_600_000),
  };
  const upstreamSandbox = parseSandbox(read("FAMOS_UPSTREAM_SANDBOX") ?? byDefault("FAMOS_UPSTREAM_SANDBOX", DEFAULT_UPSTREAM_SANDBOX), problems);
  const day = 86_400_000;
  const passwordReset = read("FAMOS_PASSWORD_RESET") ?? byDefault("FAMOS_PASSWORD_RESET", "support");
  if (passwordReset !== "support" && passwordReset !== "self") {
    problems.add("FAMOS_PASSWORD_RESET", `must be support or self (got "${passwordReset}")`);
  }
  const lifecycle = {
    temporaryPasswordTtlMs: duration("FAMOS_TEMP_PASSWORD_TTL", "72h", 60_000, 30 * day),
    passwordReset: passwordReset === "self" ? ("self" as const) : ("support" as const),
    // At least an hour: a capped notice counts the hour's mails in the outbox (NOTICE_CAP_WINDOW_MS, mail/capped-notice.ts).
    mailKeepMs: duration("FAMOS_MAIL_KEEP", "30d", 3_600_000, 3650 * day),
    auditKeepMs: duration("FAMOS_AUDIT_KEEP", "400d", day, 36500 * day),
    auditPseudonymiseAfterMs: duration("FAMOS_AUDIT_PSEUDONYMISE_AFTER", "90d", day, 36500 * day),
  };
  if (lifecycle.auditPseudonymiseAfterMs > lifecycle.auditKeepMs) {
    problems.add("FAMOS_AUDIT_PSEUDONYMISE_AFTER", "must not be longer than FAMOS_AUDIT_KEEP");
  }

  const strongFactorRoles = parseStrongFactorRoles(read("FAMOS_STRONG_FACTOR_ROLES") ?? byDefault("FAMOS_STRONG_FACTOR_ROLES", production ? "support,admin" : ""), problems);
  const rawRpId = read("FAMOS_RP_ID");
  const passkeys = { rpId: parseRpId(rawRpId, rawPublic !== undefined ? publicUrl : null, problems) };
  if (rawRpId === undefined && passkeys.rpId !== null) byDefault("FAMOS_RP_ID", passkeys.rpId);
  const defaultLocale = read("FAMOS_DEFAULT_LOCALE") ?? byDefault("FAMOS_DEFAULT_LOCALE", "en-GB");
  if (!isLocale(defaultLocale)) problems.add("FAMOS_DEFAULT_LOCALE", `must be one of ${LOCALES.join(", ")} (got "${defaultLocale}")`);

  if (problems.list.length > 0) return { ok: false, errors: problems.list, defaults };
  const config: Config = {
    production, host, port, publicUrl, publicUrlExplicit: rawPublic !== undefined,
    https: publicUrl.protocol === "https:",
    databaseUrl, databaseTimeoutMs, drainQuietMs, redisUrl, smtpUrl, mailFrom, mailFromAddress, secret, secretPrevious, otp, lock, rateLimitPerMinute, address, deviceLockAfter, logLevel, session, trustProxy,
    enrolment,
    supportEmail, timezone, footer, upstreamUrl, sections, webSocketMaxMessageBytes, metricsAllow, lifecycle,
    timeouts,
    upstreamSandbox,
    rollout,
    bounce,
    dkim,
    strongFactorRoles,
    passkeys,
    defaultLocale: defaultLocale as Locale,
  };
  return { ok: true, config: deepFreeze(config), defaults };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof URL) && !Buffer.isBuffer(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

