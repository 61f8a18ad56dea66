import { stdin } from "node:process";
import { loadConfig, type Config, type ConfigResult } from "../config/config.ts";
import { maskSetting } from "../config/mask.ts";
import { describeUnknown, resolveSettings, settingsProblems, type ResolvedSettings } from "../config/sources.ts";
import { SQLITE_BUSY_TIMEOUT_MS } from "../store/database.ts";
import { terminalText } from "../platform/terminal-text.ts";
import { isDatabaseUnavailable } from "../store/database-unavailable.ts";
import { NewerDatabase } from "../store/migrate.ts";
import { isConnectionLost, isSetupFault, SqliteAccessFault } from "../store/setup-fault.ts";

/** Refused input: exit 1 with the reason on standard error (usage errors are commander's, exit 2). */
export class Refused extends Error {}
/**
 * The one answer every command gives for a login ID no account has. A pasted 10,000-character
 * "login ID" is quoted by its first 80 characters and its length, not echoed whole.
 */
export function noSuchUser(loginId: string): Refused {
  const shown = loginId.length > 80 ? `"${loginId.slice(0, 80)}…" (${loginId.length} characters)` : `"${loginId}"`;
  return new Refused(`no user has login ID ${shown}`);
}

/**
 * A filter option given empty or blank (`--partner "$PARTNER"` with the variable unset) is refused: left
 * alone it would mean "every partner" or "every user", which is not what the operator asked for.
 */
export function refuseEmptyOption(name: string, value: string | undefined, leftOut: string): void {
  if (value !== undefined && value.trim() === "") throw new Refused(`${name} is empty: give ${leftOut}`);
}

/** Options that do not go together (exit 2, like the usage errors commander finds itself). */
export class UsageError extends Error {}

/** The settings file given with `famos --config <file>` (set before any command runs). */
let settingsFile: string | undefined;
export function useSettingsFile(path: string | undefined): void {
  settingsFile = path;
}

export interface Settings {
  config: Readonly<Config>;
  resolved: ResolvedSettings;
}

/** The settings file and the environment combined, and parsed, problems and all (famos doctor, famos config). */
export function readSettings(env: NodeJS.ProcessEnv = process.env): { resolved: ResolvedSettings; result: ConfigResult } {
  const resolved = resolveSettings(env, settingsFile);
  return { resolved, result: loadConfig(resolved.env) };
}

/** The settings file and the environment combined, parsed; on any problem, every one is printed and the process exits 1. */
export function settingsOrExit(env: NodeJS.ProcessEnv = process.env): Settings {
  const { resolved, result } = readSettings(env);
  const errors = settingsProblems(resolved, result.ok ? [] : result.errors);
  if (!result.ok || errors.length > 0) {
    // A problem quotes the value it got, which may hold anything the environment held.
    process.stderr.write(`FAMOS cannot start; fix these settings:\n${errors.map((e) => `  - ${terminalText(e)}`).join("\n")}\n`);
    process.exit(1);
  }
  return { config: result.config, resolved };
}

/** As settingsOrExit; an unknown FAMOS_ variable is a warning on standard error (`famos doctor` fails on it). */
export function configOrExit(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const { config, resolved } = settingsOrExit(env);
  for (const setting of resolved.unknown) process.stderr.write(`famos: warning: ${terminalText(describeUnknown(setting))}\n`);
  return config;
}

/** One line from standard input when it is not a terminal; else asked twice without echo. */
export async function readPassword(prompt = "Password: "): Promise<string> {
  if (!stdin.isTTY) return utf8(await firstLine(stdin));
  const first = await askHidden(prompt);
  const second = await askHidden("Again: ");
  if (first !== second) throw new Refused("the two passwords do not match");
  return first;
}

/**
 * A password arrives as bytes: only UTF-8 text is taken. Decoded leniently, a Latin-1 file's "é" or
 * a stray byte became U+FFFD, stored in a password that no browser would send at sign-in.
 */
const NOT_UTF8 = "the password on standard input is not UTF-8 text; give it as UTF-8";
const utf8Decoder = () => new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function utf8(bytes: Uint8Array): string {
  try {
    return utf8Decoder().decode(bytes);
  } catch {
    throw new Refused(NOT_UTF8);
  }
}

/** The bytes before the first line break (LF, CR or CRLF, as readline splits lines), or all of them. */
async function firstLine(input: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) {
    const end = chunk.findIndex((byte) => byte === 0x0a || byte === 0x0d);
    if (end >= 0) {
      chunks.push(chunk.subarray(0, end));
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // No echo before the prompt shows: a password typed the moment it appears stays off the screen.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.resume();
    const decoder = utf8Decoder();
    let value = "";
    const stop = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
    };
    const onData = (chunk: Buffer) => {
      let text: string;
      try {
        // A character may come in two chunks; only bytes that can never be UTF-8 are refused.
        text = decoder.decode(chunk, { stream: true });
      } catch {
        stop();
        reject(new Refused(NOT_UTF8));
        return;
      }
      for (const char of text) {
        if (char === "\r" || char === "\n") {
          stop();
          resolve(value);
          return;
        }
        if (char === "\u0003") process.exit(130);
        if (char === "\u007f") value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on("data", onData);
  });
}

/**
 * Runs `step` (opening the database, migrating it) and turns a fault of the database's setup into a
 * refusal that names the database, its password hidden: one line on standard error and exit 1, as
 * for any refused input, instead of a driver's stack trace (store/setup-fault.ts).
 */
export async function reachDatabase<T>(databaseUrl: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isSqliteBusy(error)) throw busy(databaseUrl, error, "run the command again");
    if (error instanceof NewerDatabase) throw new Refused(`cannot use the database ${maskSetting("FAMOS_DATABASE_URL", databaseUrl)}: ${error.message}`);
    if (!isSetupFault(error)) throw error;
    const where = maskSetting("FAMOS_DATABASE_URL", databaseUrl);
    if (error instanceof SqliteAccessFault) throw new Refused(`cannot use the database ${where}: ${error.message}`);
    throw new Refused(`cannot use the database ${where}: ${error.message}; check FAMOS_DATABASE_URL (famos doctor tells more)`);
  }
}

/**
 * Runs a command's work on a database already reached (reachDatabase). Should the database go away
 * meanwhile (a restart, a failover: the connection dropped, then refused while it starts), the
 * command says so in one line with what to do — `again`, such as "run it again with --resume" — and
 * exits 1; what it committed before stays. Every other error keeps its stack.
 */
export async function keepDatabase<T>(databaseUrl: string, again: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (isSqliteBusy(error)) throw busy(databaseUrl, error, again);
    if (!isConnectionLost(error) && !isSetupFault(error)) throw error;
    const where = maskSetting("FAMOS_DATABASE_URL", databaseUrl);
    throw new Refused(`lost the connection to the database ${where} in the middle of the work (${error.message}); what was committed before stays: ${again} once the database answers (famos doctor tells more)`);
  }
}

/** SQLite's file held by another writer (`famos serve`, another command) past its busy timeout (store/database.ts). */
function isSqliteBusy(error: unknown): error is Error {
  return isDatabaseUnavailable(error) && /^SQLITE_/.test(String((error as { code?: unknown }).code));
}

/** Busy is not lost: the file is fine and the same command succeeds once the other writer is done. */
function busy(databaseUrl: string, error: Error, again: string): Refused {
  const where = maskSetting("FAMOS_DATABASE_URL", databaseUrl);
  return new Refused(`the database ${where} is busy: another process kept it locked past the wait of ${SQLITE_BUSY_TIMEOUT_MS / 1000} s (${error.message}); what was committed before stays: ${again} in a moment`);
}
