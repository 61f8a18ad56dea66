import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** 32 bytes or more, given as hex or base64 (standard or URL-safe). */
export function decodeSecret(raw: string): Buffer | null {
  let bytes: Buffer | null = null;
  if (/^[0-9a-f]+$/i.test(raw) && raw.length % 2 === 0) bytes = Buffer.from(raw, "hex");
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) bytes = Buffer.from(raw, "base64");
  return bytes !== null && bytes.length >= 32 ? bytes : null;
}

/** Where a development start keeps its generated secret (relative to the working folder, as ./data/famos.db). */
export const DEVELOPMENT_SECRET_PATH = "./data/secret";

/** The secret kept at `path`, or null when there is none to use (missing, unreadable, too short). */
export function keptSecret(path: string): Buffer | null {
  try {
    return decodeSecret(readFileSync(path, "utf8").trim());
  } catch {
    return null;
  }
}

/**
 * The development secret could not be kept where it goes: a read-only install, or a folder owned by
 * another user. The command line tells it in one line (its message says what to do), not as a stack.
 */
export class DevelopmentSecretFault extends Error {
  constructor(path: string, cause: NodeJS.ErrnoException) {
    super(cannotKeep(path, cause.code, cause.path ?? dirname(path)), { cause });
    this.name = "DevelopmentSecretFault";
  }
}

function cannotKeep(path: string, code: string | undefined, where: string): string {
  return (
    `cannot keep the development secret in ${path} (${code ?? "error"} on ${resolve(where)}): set FAMOS_SECRET ` +
    "(at least 32 random bytes: openssl rand -hex 32), or run famos from a folder where it may write ./data"
  );
}

/**
 * Why a development start could not keep a secret at `path` (what DevelopmentSecretFault would say),
 * or null: for `famos doctor`, asked of the system (access(2)) on the file or the nearest folder that
 * is there, so root, ACLs and read-only mounts count as they will when the server writes it.
 */
export function developmentSecretProblem(path = DEVELOPMENT_SECRET_PATH): string | null {
  if (keptSecret(path) !== null) return null;
  let target = existsSync(path) ? path : dirname(path);
  while (!existsSync(target) && dirname(target) !== target) target = dirname(target);
  try {
    accessSync(target, target === path ? constants.W_OK : constants.W_OK | constants.X_OK);
    return null;
  } catch (error) {
    return cannotKeep(path, (error as NodeJS.ErrnoException).code, target === path ? path : `${target}/`);
  }
}

/**
 * Development only: a secret generated once and kept under ./data, so codes and sessions survive
 * a restart. Production refuses to start without FAMOS_SECRET instead.
 */
export function developmentSecret(path = DEVELOPMENT_SECRET_PATH): Buffer {
  const existing = keptSecret(path);
  if (existing) return existing;
  const secret = randomBytes(32);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, secret.toString("hex") + "\n", { mode: 0o600 });
  } catch (error) {
    throw new DevelopmentSecretFault(path, error as NodeJS.ErrnoException);
  }
  return secret;
}

/**
 * What a development start does with FAMOS_SECRET unset, in words for `famos config`: use the secret
 * kept at `path`, or generate one there (as developmentSecret does). Never the secret itself.
 */
export function developmentSecretText(path = DEVELOPMENT_SECRET_PATH): string {
  return keptSecret(path) ? `(development: kept in ${path})` : `(development: generated into ${path} at the next start)`;
}
