import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "../config/config.ts";
import type { Clock } from "../platform/clock.ts";
import type { Keys } from "../platform/keys.ts";
import type { Random } from "../platform/random.ts";
import type { Dialect } from "../store/database.ts";
import type { Database, OutboxTable } from "../store/schema.ts";
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
  /** Call after the transaction that queued mail has committed: the sender starts at once. */
  mailQueued(): void;
  /**
   * The lease end with which this process's sender takes a code's mail as it is written, or null when
   * no sender here takes mail now (a command, a sender stopping): the mail is then only queued. A mail
   * written claimed goes to `mailClaimed` after the commit, which hands it to SMTP with no claim
   * statement of its own (MailSender.sendClaimed; issue 17).
   */
  mailLeaseUntil(now: number): number | null;
  mailClaimed(message: OutboxTable): void;
  metrics: Metrics;
  logger: Logger;
}
