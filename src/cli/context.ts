import pino from "pino";
import { userInfo } from "node:os";
import type { Actor } from "../audit/audit.ts";
import { createServices, type Services } from "../app/services.ts";
import { unsentSince } from "../mail/outbox.ts";
import { migrateToLatest } from "../store/migrate.ts";
import { terminalText } from "../platform/terminal-text.ts";
import { configOrExit, keepDatabase, reachDatabase } from "./io.ts";

/**
 * Runs a command with the services of a server (migrated database, mail outbox) but no HTTP. Mail a
 * command queues is sent before it exits (with whatever else is due), so a reset notice goes out even
 * with no server running; a command that queued none leaves the outbox alone.
 * A database lost in the middle is told in one line, with `again` (what to run) as the remedy.
 */
export async function withServices<T>(run: (services: Services) => Promise<T>, options: { again?: string } = {}): Promise<T> {
  const config = configOrExit();
  const services = await reachDatabase(config.databaseUrl, () => createServices(config, { startSender: false, countMetrics: false, logger: silentLogger() }));
  try {
    await reachDatabase(config.databaseUrl, () => migrateToLatest(services.store));
    return await keepDatabase(config.databaseUrl, options.again ?? "run the command again", async () => {
      const since = services.deps.clock.now();
      const result = await run(services);
      if (await services.sender.drainQueued()) await tellUnsentMail(services, since);
      return result;
    });
  } finally {
    await services.close();
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
  return { actor: `operator:${name}`, ip: "cli", userAgent: "famos-cli" };
}

/**
 * Commands print their own results; only faults are logged, to standard error, as one plain line
 * each (`famos: could not read the mail outbox: database is locked`): an operator's terminal gets
 * neither JSON nor a stack trace.
 */
function silentLogger() {
  return pino({ level: "warn" }, { write: (record: string) => process.stderr.write(`${plainLogLine(record)}\n`) });
}

export function plainLogLine(record: string): string {
  const { msg, err } = JSON.parse(record) as { msg?: string; err?: { message?: string } };
  return terminalText(`famos: ${msg ?? "(no message)"}${err?.message ? `: ${err.message}` : ""}`);
}
