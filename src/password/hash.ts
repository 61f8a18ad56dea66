import { availableParallelism } from "node:os";
import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from "@node-rs/argon2";
import { BUSY, legacyPool, legacyWorkers, type LegacyPool } from "./legacy-pool.ts";
import { parseStoredHash, type StoredHash } from "./stored-hash.ts";

export { checkImportedHash, describeHashFormat } from "./stored-hash.ts";

/**
 * Parameters for new hashes: the OWASP Password Storage Cheat Sheet's first Argon2id setting
 * (19 MiB of memory, 2 iterations, 1 degree of parallelism), which SPEC "Passwords" adopts.
 */
export const ARGON2ID_PARAMETERS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

// Algorithm is a const enum, which isolated modules cannot read at run time: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export interface PasswordCheck {
  ok: boolean;
  /** True only when the password matched and the stored hash should be replaced by hashPassword. */
  needsUpgrade: boolean;
  /** The legacy pool refused to evaluate it (too many waiting, or waited too long): not a match. */
  busy?: true;
}

/**
 * How many argon2id hashes run at once: one per core. libuv's thread pool has 4 threads whatever the
 * machine (and is started before any of FAMOS's code runs, so its size cannot be set from here):
 * more hashes at once than cores only take turns on them, and take them from the event loop, which
 * then answers pages and sends the code mails late (issue 17). The rest wait here, in arrival order;
 * the pool's other threads stay free for file and name lookups. UV_THREADPOOL_SIZE, if lower, wins.
 */
export function hashConcurrency(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Number(env.UV_THREADPOOL_SIZE) || Infinity));
}
export const HASH_CONCURRENCY = hashConcurrency();

/** A first-come, first-served gate with `size` places (exported for its unit test). */
export class Gate {
  #free: number;
  #started = 0;
  readonly #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  /** How many works have passed the gate. */
  get started(): number {
    return this.#started;
  }
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#started += 1;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    }
  }
}

/** Every argon2id computation of FAMOS's own (hash, verify and the burn below) passes this gate. */
const argon2Gate = new Gate(HASH_CONCURRENCY);

/**
 * How many argon2id computations this process has made: what a sign-in costs in hashes, counted
 * rather than timed (test/security/enumeration: an unknown login ID costs one, as a wrong password does).
 */
export const argon2Computations = (): number => argon2Gate.started;

/**
 * Passwords are hashed in Unicode NFC, the form the policy counts characters in, so the same
 * password typed on systems that compose accents differently still matches (NIST SP 800-63B
 * 5.1.1.2 asks for normalisation). Imported legacy hashes are checked against the password as
 * typed, as their original systems did.
 */
export function hashPassword(password: string): Promise<string> {
  return argon2Gate.run(() => argon2Hash(password.normalize("NFC"), { algorithm: ARGON2ID, ...ARGON2ID_PARAMETERS }));
}

/** Checks a password against a stored hash of any supported format; never throws on bad data. */
export async function verifyPassword(stored: string, password: string, pool: LegacyPool = legacyPool): Promise<PasswordCheck> {
  const parsed = parseStoredHash(stored);
  if (parsed === null) return { ok: false, needsUpgrade: false };
  // FAMOS's own hashes go straight to libuv's thread pool; anything else (imported) goes through the
  // bounded legacy pool, keyed by the stored hash, which is one account's (its salt is its own), and
  // is verified on a low-priority worker thread (legacy-worker.mjs), never on the event loop.
  const ok = parsed.kind === "argon2" && isStandard(parsed) ? await matchesArgon2(parsed.phc, password) : await pool.run(stored, () => legacyWorkers.verify(parsed, password));
  if (ok === BUSY) return { ok: false, needsUpgrade: false, busy: true };
  // A rehash needs the right password, so a failed check never asks for one.
  return { ok, needsUpgrade: ok && isWeaker(parsed) };
}

async function matchesArgon2(phc: string, password: string): Promise<boolean> {
  try {
    return await argon2Gate.run(() => argon2Verify(phc, password.normalize("NFC")));
  } catch {
    // The library reports a stored value it cannot use as a fault; the password was not shown to
    // match, and a sign-in must not crash on stored data.
    return false;
  }
}

/** Exactly the hashes FAMOS writes itself: these skip the legacy pool. */
function isStandard(parsed: StoredHash): boolean {
  return (
    parsed.kind === "argon2" &&
    parsed.variant === "argon2id" &&
    parsed.version === 19 &&
    parsed.memoryCost === ARGON2ID_PARAMETERS.memoryCost &&
    parsed.timeCost === ARGON2ID_PARAMETERS.timeCost &&
    parsed.parallelism === ARGON2ID_PARAMETERS.parallelism
  );
}

/** Anything but argon2id at (at least) today's parameters is upgraded at the next sign-in. */
function isWeaker(parsed: StoredHash): boolean {
  if (parsed.kind !== "argon2" || parsed.variant !== "argon2id") return true;
  return (
    parsed.version !== 19 ||
    parsed.memoryCost < ARGON2ID_PARAMETERS.memoryCost ||
    parsed.timeCost < ARGON2ID_PARAMETERS.timeCost
  );
}

// Any fixed password will do: the result of the check is thrown away.
const BURN_PASSWORD = "famos burn password check";
let burnHash: Promise<string> | undefined;

/**
 * Spends the time of a failed verification against a standard argon2id hash. The sign-in calls it
 * for an unknown login ID, so that a wrong login ID and a wrong password take the same time and a
 * stranger cannot learn by timing which login IDs exist (SPEC "Sign in"; OWASP Authentication
 * Cheat Sheet, "Authentication Responses").
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  burnHash ??= hashPassword(BURN_PASSWORD).catch((error: unknown) => {
    burnHash = undefined; // let the next call try again rather than fail forever
    throw error;
  });
  const stored = await burnHash;
  await argon2Gate.run(() => argon2Verify(stored, password.normalize("NFC")));
}
