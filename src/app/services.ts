import pino, { type Logger } from "pino";
import type { Config } from "../config/config.ts";
import { recordBounce } from "../bounce/record-bounce.ts";
import { DEVELOPMENT_SECRET_PATH, developmentSecret, keptSecret } from "../config/secret.ts";
import { outboxDepth } from "../mail/outbox.ts";
import { MailSender, DEFAULT_SENDER_OPTIONS, type SenderOptions } from "../mail/sender.ts";
import { developmentTransport, sendingOptions, smtpTransport, type MailTransport } from "../mail/transport.ts";
import { systemClock, type Clock } from "../platform/clock.ts";
import { deriveKeys, type Keys } from "../platform/keys.ts";
import { cryptoRandom, type Random } from "../platform/random.ts";
import { registerRolloutGauges } from "../rollout/gauges.ts";
import { openStore, type Store } from "../store/database.ts";
import type { Deps } from "./deps.ts";
import { createMetrics, relayPaused, unreadMetrics } from "./metrics.ts";

export interface Services {
  deps: Deps;
  store: Store;
  sender: MailSender;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  random?: Random;
  store?: Store;
  transport?: MailTransport;
  logger?: Logger;
  senderOptions?: Partial<SenderOptions>;
  /** Tests: the sender is started only when asked (default true). */
  startSender?: boolean;
  /** `famos serve`: SQLite's checkpoints on a thread of their own (store/checkpoints.ts). */
  backgroundCheckpoints?: boolean;
  /** `famos serve`: the database's waits bounded by FAMOS_DATABASE_TIMEOUT (PostgreSQL: store/statement-bound.ts; SQLite: its busy timeout). */
  boundStatements?: boolean;
  /** Commands: no /metrics reads them, so nothing is counted (unreadMetrics) and prom-client stays unloaded (default true). */
  countMetrics?: boolean;
  /** Directory for the development secret (default ./data). */
  dataDir?: string;
}

/**
 * Wires the providers together (authelia's "providers" pattern): storage, clock, randomness,
 * keys, mail, metrics. Everything a test wants to fix is an override.
 */
export function createServices(config: Readonly<Config>, overrides: ServiceOverrides = {}): Services {
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  // The metrics read the outbox when scraped, after the store below is open.
  const counted = overrides.countMetrics !== false;
  const metrics = counted ? createMetrics(() => outboxDepth(store.db), overrides.clock === undefined) : unreadMetrics();
  relayPaused(metrics, null);
  const store =
    overrides.store ??
    openStore(config.databaseUrl, {
      // Every command gives up on a connection that does not open within FAMOS_DATABASE_TIMEOUT; only
      // the server's statements are bounded by it as well.
      connectionTimeoutMs: config.databaseTimeoutMs,
      ...(overrides.boundStatements ? { statementTimeoutMs: config.databaseTimeoutMs } : {}),
      ...(overrides.backgroundCheckpoints
        ? {
            backgroundCheckpoints: {
              onCheckpoint: (result) => metrics.sqliteWalFrames.set(result.log),
              onError: (error, forGood) =>
                logger.error(
                  { err: error },
                  `SQLite checkpoint thread failed: the server's connection checkpoints ${forGood ? "again" : "until the thread's next one succeeds"}`,
                ),
              onResume: () => logger.info("SQLite checkpoints back on their own thread"),
            },
          }
        : {}),
    });
  const secret = serverSecret(config, overrides.dataDir);
  const clock = overrides.clock ?? systemClock;
  const mailboxUrl = new URL("/dev/mailbox", config.publicUrl).toString();
  const transport =
    overrides.transport ?? (config.smtpUrl ? smtpTransport(config.smtpUrl, sendingOptions(config)) : developmentTransport(mailboxUrl));
  const mailDomain = config.mailFromAddress.includes("@") ? config.mailFromAddress.slice(config.mailFromAddress.lastIndexOf("@") + 1) : "famos.local";

  const sender = new MailSender(
    {
      db: store.db,
      dialect: store.dialect,
      clock,
      transport,
      from: config.mailFrom,
      logger,
      onSent: (message, now) => {
        metrics.mailSent.inc();
        if (message.kind.startsWith("code.")) metrics.codeToSmtp.observe((now - message.created_at) / 1000);
      },
      onFailed: () => metrics.mailFailed.inc(),
      onRelayPause: (fault) => relayPaused(metrics, fault),
      // A recipient the SMTP server refuses for its address is a hard bounce told at once, without
      // waiting for a report that will not come (src/bounce/record-bounce.ts).
      onAddressRefused: async (message, refusal) => {
        await recordBounce(deps, { outboxId: message.id, kind: "hard", status: refusal.status, reason: refusal.reason }, "smtp");
      },
    },
    // The development mailbox shows messages from the outbox, so their bodies stay there.
    { ...DEFAULT_SENDER_OPTIONS, scrubBodies: transport.kind !== "development", ...overrides.senderOptions },
  );
  const deps: Deps = {
    db: store.db,
    dialect: store.dialect,
    clock,
    random: overrides.random ?? cryptoRandom,
    config,
    keys: keysFrom(config, secret),
    mailDomain,
    mailQueued: () => sender.wake(),
    mailLeaseUntil: (now) => sender.leaseUntil(now),
    mailClaimed: (message) => sender.sendClaimed(message),
    metrics,
    logger,
  };
  if (counted) registerRolloutGauges(deps);
  if (overrides.startSender !== false) sender.start();
  return {
    deps,
    store,
    sender,
    async close() {
      await sender.stop();
      await store.close();
    },
  };
}

/** FAMOS_SECRET, or in development the secret generated once under the data folder. */
function serverSecret(config: Config, dataDir?: string): Buffer {
  return config.secret ?? developmentSecret(dataDir === undefined ? DEVELOPMENT_SECRET_PATH : `${dataDir}/secret`);
}

/** The keys the server derives, for what runs before its services exist (serve's PostgreSQL migration): FAMOS_SECRET_PREVIOUS's included, as everywhere. */
export function serverKeys(config: Config): Keys {
  return keysFrom(config, serverSecret(config));
}

/** One rule for every caller: FAMOS_SECRET's keys, with FAMOS_SECRET_PREVIOUS's for reading when it is set. */
function keysFrom(config: Config, secret: Buffer): Keys {
  return deriveKeys(secret, config.secretPrevious);
}

/**
 * The keys a command gives the migrations (migration 019 digests every login ID's counters): from
 * FAMOS_SECRET, or in development from the secret a server keeps under ./data; null when there is
 * neither, and 019 then refuses, naming FAMOS_SECRET. A secret generated now is no server's: counters
 * rewritten under it would lift every lock in force without a word (`famos migrate` in a pipeline that
 * sets FAMOS_DATABASE_URL alone). `famos serve` migrates with its own secret (serverKeys).
 */
export function migrationKeys(config: Config): Keys | null {
  const secret = config.secret ?? keptSecret(DEVELOPMENT_SECRET_PATH);
  return secret ? keysFrom(config, secret) : null;
}
