import { existsSync } from "node:fs";
import { sql } from "kysely";
import type { Config } from "../config/config.ts";
import { describeUnknown, settingsProblems, type ResolvedSettings } from "../config/sources.ts";
import { userTranslator } from "../i18n/translator.ts";
import { checkSmtp, describeSmtpCheck } from "../mail/smtp-check.ts";
import { noticeMail } from "../otp/messages.ts";
import { durationInWords } from "../config/duration.ts";
import { developmentSecretProblem, developmentSecretText } from "../config/secret.ts";
import { openStore } from "../store/database.ts";
import { emptyDatabaseProblem, sqliteAccessProblem, sqliteFilePath } from "../store/file-access.ts";
import { NewerDatabase, pendingMigrations, unknownMigrations } from "../store/migrate.ts";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/** One line of `famos doctor`'s table. */
export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
}

/** More than this between the server's and the database's clocks fails: expiry and lock times are compared across machines. */
export const MAX_CLOCK_SKEW_MS = 2000;

/** The settings: unknown names and bad values fail here, though `serve` only warns of unknown ones. */
export function checkSettings(resolved: ResolvedSettings, errors: string[]): CheckResult[] {
  const problems = [...settingsProblems(resolved, errors), ...resolved.unknown.map(describeUnknown)];
  if (problems.length === 0) return [{ check: "settings", status: "ok", detail: `${resolved.sources.size} set, the rest default` }];
  return problems.map((problem) => ({ check: "settings", status: "fail", detail: problem }));
}

/** Database reachable, every migration applied, and its clock against ours. */
export async function checkDatabase(config: Readonly<Config>, now: () => number = Date.now): Promise<CheckResult[]> {
  const path = sqliteFilePath(config.databaseUrl);
  if (path !== null && path !== ":memory:" && !existsSync(path)) {
    // famos migrate makes the file, unless this user may not write where it goes: then that is the fault.
    return [{ check: "database", status: "fail", detail: sqliteAccessProblem(path) ?? `${path} does not exist: run famos migrate` }];
  }
  const empty = path === null ? null : emptyDatabaseProblem(path);
  if (empty !== null) return [{ check: "database", status: "fail", detail: empty }];
  // Bounded as the server's statements are, so a database that does not answer fails here too.
  const store = openStore(config.databaseUrl, { statementTimeoutMs: config.databaseTimeoutMs });
  const bound = `${durationInWords(config.databaseTimeoutMs)} (FAMOS_DATABASE_TIMEOUT)`;
  try {
    const results: CheckResult[] = [];
    try {
      await sql`select 1`.execute(store.db);
    } catch (error) {
      const reason = /timeout/i.test((error as Error).message) ? `no answer within ${bound}` : (error as Error).message;
      return [{ check: "database", status: "fail", detail: `unreachable: ${reason}` }];
    }
    const bounded = store.dialect === "postgres" ? `; the server's statements are bounded at ${bound}` : "";
    results.push({ check: "database", status: "ok", detail: `${store.dialect} reachable${bounded}` });
    const pending = await pendingMigrations(store);
    const unknown = await unknownMigrations(store);
    results.push(
      unknown.length > 0
        ? { check: "migrations", status: "fail", detail: new NewerDatabase(unknown).message }
        : pending.length === 0
        ? { check: "migrations", status: "ok", detail: "all applied" }
        : { check: "migrations", status: "fail", detail: `pending: ${pending.join(", ")}; run famos migrate` },
    );
    if (store.dialect === "sqlite") {
      results.push({ check: "clock", status: "ok", detail: "SQLite shares this machine's clock" });
    } else {
      const before = now();
      const row = (await sql<{ ms: string | number }>`select extract(epoch from clock_timestamp()) * 1000 as ms`.execute(store.db)).rows[0];
      const after = now();
      // The database read its clock somewhere within the round trip: compare with the midpoint.
      const skew = Math.round(Number(row?.ms) - (before + after) / 2);
      const text = `database clock ${skew >= 0 ? "ahead" : "behind"} by ${Math.abs(skew)} ms`;
      results.push({ check: "clock", status: Math.abs(skew) > MAX_CLOCK_SKEW_MS ? "fail" : "ok", detail: text });
    }
    return results;
  } finally {
    await store.close();
  }
}

/**
 * `--send-to`'s test message, in FAMOS_DEFAULT_LOCALE as mail to someone with no saved language is
 * (userTranslator), through the notice template: the operator sees the words, lang and
 * Content-Language staff will get.
 */
function doctorTestMessage(config: Readonly<Config>) {
  const t = userTranslator(config, undefined);
  return noticeMail(t.text("mail.doctorTest.subject"), [t.text("mail.doctorTest.body")], t);
}

/** SMTP: connect, TLS, authentication and, with sendTo, a real test message. */
export async function checkMail(config: Readonly<Config>, sendTo?: string): Promise<CheckResult> {
  if (config.smtpUrl === null) {
    return sendTo === undefined
      ? { check: "smtp", status: "skip", detail: "no FAMOS_SMTP_URL: mail goes to the development mailbox" }
      : { check: "smtp", status: "fail", detail: "no FAMOS_SMTP_URL: nothing to send a test message with" };
  }
  const result = await checkSmtp(config.smtpUrl, sendTo === undefined ? {} : { send: { to: sendTo, from: config.mailFrom, message: doctorTestMessage(config) } });
  return { check: "smtp", status: result.ok ? "ok" : "fail", detail: describeSmtpCheck(result) };
}

const REDIS_CHECK_TIMEOUT_MS = 3000;

/** Redis answers PING (when configured). */
export async function checkRedis(config: Readonly<Config>): Promise<CheckResult> {
  if (config.redisUrl === null) return { check: "redis", status: "skip", detail: "no FAMOS_REDIS_URL: request limits are per instance" };
  // Through a module of ours: a bundled CommonJS package imported dynamically gives only its default.
  const { Redis } = await import("../app/redis.ts");
  const redis = new Redis(config.redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis gives the cause (ECONNREFUSED …) in an "error" event and rejects connect() with "Connection is closed".
  let cause: Error | null = null;
  redis.on("error", (error: Error) => (cause ??= error));
  // A Redis that takes the connection and never answers (hung, or not Redis) would hold the doctor
  // for ever: connectTimeout covers the TCP connection only.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_CHECK_TIMEOUT_MS / 1000} s`)), REDIS_CHECK_TIMEOUT_MS);
  });
  try {
    const answer = await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
    return { check: "redis", status: answer === "PONG" ? "ok" : "fail", detail: answer === "PONG" ? "PING answered" : `PING answered ${answer}` };
  } catch (error) {
    return { check: "redis", status: "fail", detail: `unreachable: ${(cause ?? (error as Error)).message}` };
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/**
 * The public address against the cookies: production over plain http sends session cookies without
 * Secure (unless a trusted proxy reports https), and a cookie domain must cover the public host.
 */
export function checkPublicUrl(config: Readonly<Config>): CheckResult {
  const host = config.publicUrl.hostname;
  const domain = config.session.cookieDomain?.replace(/^\./, "").toLowerCase() ?? null;
  if (domain !== null && host !== domain && !host.endsWith(`.${domain}`)) {
    return { check: "public URL", status: "fail", detail: `FAMOS_COOKIE_DOMAIN ${domain} does not cover ${host}: browsers would drop the cookies` };
  }
  if (config.https) return { check: "public URL", status: "ok", detail: `${config.publicUrl.origin}: Secure cookies (${domain ? "__Secure-" : "__Host-"} prefix)` };
  if (!config.production) return { check: "public URL", status: "ok", detail: `${config.publicUrl.origin}: development, cookies without Secure` };
  if (trustsAProxy(config)) {
    return { check: "public URL", status: "warn", detail: `${config.publicUrl.origin} is http: cookies are Secure only when the trusted proxy says https; set FAMOS_PUBLIC_URL to https://…` };
  }
  return { check: "public URL", status: "fail", detail: `${config.publicUrl.origin} is http in production: session cookies would travel without Secure; set FAMOS_PUBLIC_URL to https://…` };
}

/**
 * FAMOS_TRUST_PROXY=true trusts any peer's X-Forwarded-For: a client that sends its own chooses the
 * address the request limits, the address lock and the audit trail see, and one that names an address in
 * FAMOS_TRUSTED_NETWORKS skips the address lock (src/regulation/throttle.ts). A warning, not a failure:
 * FAMOS may sit behind a proxy that overwrites the header. A hop count is the opposite: Fastify 5 trusts
 * no peer by a count alone (it cannot tell a proxy from a client that sent enough entries of its own),
 * so every user behind the proxy is one address and its X-Forwarded-Proto is ignored. Whether a count
 * equals the proxies in front no check here could know; that it trusts none, it can. 0 is no count:
 * Fastify takes it (falsy) as off, as FAMOS_TRUST_PROXY=off, of which nothing is said. Null otherwise.
 */
export function checkTrustProxy(config: Readonly<Config>): CheckResult | null {
  if (typeof config.trustProxy === "number" && config.trustProxy > 0) {
    return {
      check: "proxy",
      status: "warn",
      detail: `FAMOS_TRUST_PROXY=${config.trustProxy} is a hop count, which trusts no proxy: every user behind it counts as one address (request limits, address lock, audit) and its X-Forwarded-Proto is ignored; name the proxy's own addresses`,
    };
  }
  if (config.trustProxy !== true) return null;
  return {
    check: "proxy",
    status: "warn",
    detail:
      "FAMOS_TRUST_PROXY=true trusts every client's own X-Forwarded-For: a client chooses the address the request limits, the address lock and the audit see, and one naming a FAMOS_TRUSTED_NETWORKS address skips the address lock; name the proxy's own addresses",
  };
}

/** Whether FAMOS_TRUST_PROXY lets any peer's forwarded headers count: not off (0 too), nor a hop count (checkTrustProxy). */
function trustsAProxy(config: Readonly<Config>): boolean {
  return config.trustProxy !== false && typeof config.trustProxy !== "number";
}

/** Without FAMOS_SECRET (development): where the server keeps its generated secret, failing when it may not. */
export function checkSecret(config: Readonly<Config>): CheckResult | null {
  if (config.secret !== null) return null;
  const problem = developmentSecretProblem();
  return problem === null ? { check: "secret", status: "ok", detail: developmentSecretText() } : { check: "secret", status: "fail", detail: problem };
}
