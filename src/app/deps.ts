import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "../config/config.ts";
import type { Clock } from "../platform/clock.ts";
import type { Keys } from "../platform/keys.ts";
import type { Random } from "../platform/random.ts";
import type { Dialect } from "../store/database.ts";
import type { Database } from "../store/schema.ts";
import type { Metrics } from "./metrics.ts";

/**
 * What every domain operation may use, passed explicitly (no globals): storage, the clock, the
 * random source, the frozen configuration, derived keys, and a way to say "mail was queued".
 */
export interface Deps {
  db: Kysely<Database>;
  dialect: Dialect;
  clock: Clock;
  random: Random;
  config: Readonly<Config>;
  keys: Keys;
  /** Domain part of generated Message-IDs. */
  mailDomain: string;
  /**
   * Call after the transaction that queued mail has committed: the sender starts at once. With the
   * ids of the messages just queued (a code's mail), they are claimed and handed to SMTP in this
   * turn of the event loop, ahead of the rest of the outbox (MailSender.sendNow).
   */
  mailQueued(outboxIds?: readonly string[]): void;
  metrics: Metrics;
  logger: Logger;
}
