import pino from "pino";
import { existsSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import { COMMAND_LINE_IP, OPERATOR_PREFIX, type Actor } from "../audit/audit.ts";
import { createServices, migrationKeys, type Services } from "../app/services.ts";
import { unsentSince } from "../mail/outbox.ts";
import { migrateDatabase, migrateToLatest } from "../store/migrate.ts";
import { terminalText } from "../platform/terminal-text.ts";
import { sqliteFilePath } from "../store/file-access.ts";
import { configOrExit, keepDatabase, reachDatabase, Refused } from "./io.ts";

/**
 * Runs a command with the services of a server (migrated database, mail outbox) but no HTTP. Mail a
 * command queues is sent before it exits (with whatever else is due), so a reset notice goes out even
 * with no server running; a command that queued none leaves the outbox alone.
 * A database lost in the middle is told in one line, with `again` (what to run) as the remedy.
 */
export async function withServices<T>(run: (services: Services) => Promise<T>, options: { again?: string; createsDatabase?: boolean } = {}): Promise<T> {
  const config = configOrExit();
  const made = newDatabaseFile(config.databaseUrl, options.createsDatabase === true);
  // Read before the services, which in development generate a secret when none is kept: without one
  // (nor FAMOS_SECRET) the database is migrated first, so a migration that needs it refuses before
  // a secret no server has is generated, and the next run finds none either.
  const keys = migrationKeys(config);
  if (keys === null) await reachDatabase(config.databaseUrl, () => migrateDatabase(config.databaseUrl, null, { connectionTimeoutMs: config.databaseTimeoutMs }));
  const services = await reachDatabase(config.databaseUrl, () => createServices(config, { startSender: false, countMetrics: false, logger: silentLogger() }));
  try {
    await reachDatabase(config.databaseUrl, () => migrateToLatest(services.store, keys));
    return await keepDatabase(config.databaseUrl, options.again ?? "run the command again", async () => {
      const since = services.deps.clock.now();
      try {
        const result = await run(services);
        if (await services.sender.drainQueued()) await tellUnsentMail(services, since);
        return result;
      } finally {
        // Refused or not: a user add refused for its password has made the database all the same. It
        // is not removed: a server starting on the same path in that instant may have opened it.
        if (made !== null) process.stderr.write(`famos: there was no database at ${terminalText(made)}: this command made a new one\n`);
      }
    });
  } finally {
    await services.close();
  }
}

/**
 * The SQLite file a command would make because none is there, or null. A mistyped FAMOS_DATABASE_URL,
 * or the default ./data/famos.db read from the wrong folder, would otherwise have every command make
 * and migrate an empty database without a word: `user show` finding nobody, `rollout status` 0 users.
 * Only the commands that fill a new database (user add, user import) make one, and say so; the others
 * refuse and make nothing (famos migrate and famos serve make it on purpose).
 */
function newDatabaseFile(databaseUrl: string, creates: boolean): string | null {
  const path = sqliteFilePath(databaseUrl);
  if (path === null || path === "" || path === ":memory:") return null;
  const file = resolve(path);
  if (existsSync(file) || !underDirectories(file)) return null;
  if (!creates) {
    throw new Refused(
      `there is no database at ${terminalText(file)} (FAMOS_DATABASE_URL): check the setting, or the folder famos is run from; famos migrate, famos serve, famos user add and famos user import make a new one`,
    );
  }
  return file;
}

/** No plain file stands where a directory of `file`'s path would go (opening it then says why it cannot). */
function underDirectories(file: string): boolean {
  for (let directory = dirname(file); ; directory = dirname(directory)) {
    if (existsSync(directory)) return statSync(directory).isDirectory();
    if (dirname(directory) === directory) return true;
  }
}

/**
 * Mail the command wrote that the mail server has not taken (it cannot be reached, or refuses for now):
 * said on standard error, so "mailed" is not read as delivered. The mail waits in the outbox, where
 * `famos serve`'s sender retries it; the command itself succeeded.
 */
async function tellUnsentMail(services: Services, since: number): Promise<void> {
  const { count, lastError } = await unsentSince(services.deps.db, since);
  if (count === 0) return;
  const [what, they] = count === 1 ? ["1 email is", "it waits"] : [`${count} emails are`, "they wait"];
  const why = lastError === null ? "" : ` (the mail server: ${terminalText(lastError)})`;
  process.stderr.write(`famos: ${what} not sent yet${why}: ${they} in the outbox, and the FAMOS server (famos serve) sends ${count === 1 ? "it" : "them"} once the mail server takes ${count === 1 ? "it" : "them"}.\n`);
}

/** The command line is audited with the operating-system account as the actor. */
export function operator(): Actor {
  let name = "unknown";
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (containers): keep "unknown".
  }
  return { actor: `${OPERATOR_PREFIX}${name}`, ip: COMMAND_LINE_IP, userAgent: "famos-cli" };
}

/**
 * Commands print their own results; only faults are logged, to standard error, as one plain line
 * each (`famos: could not read the mail outbox: database is locked`): an operator's terminal gets
 * neither JSON nor a stack trace.
 */
function silentLogger() {
  const write = (record: string) => {
    process.stderr.write(`${plainLogLine(record)}\n`);
  };
  return pino({ level: "warn" }, { write });
}

/**
 * The record as one line, with its error's words (an Error's message, or the string the mail code logs).
 * Which records come here is the level's business: the sender logs a message deferred at info, below
 * warn, as tellUnsentMail's closing line counts them (a run with the relay down said a bare "mail
 * deferred" for every message waiting, other partners' too).
 */
export function plainLogLine(record: string): string {
  const { msg, err } = JSON.parse(record) as { msg?: string; err?: string | { message?: string } };
  const words = typeof err === "string" ? err : err?.message;
  return terminalText(`famos: ${msg ?? "(no message)"}${words ? `: ${words}` : ""}`);
}
