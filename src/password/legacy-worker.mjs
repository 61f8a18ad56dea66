// A worker thread that verifies imported (legacy) password hashes: bcrypt, Django's PBKDF2 and
// argon2 at parameters other than FAMOS's own (issue 19.3). Plain JavaScript, so the same file runs
// under the tests' TypeScript loader and beside the compiled build (bin/compile.js copies it).
//
// The thread lowers its own scheduling priority (nice 19) before its first job: on a machine whose
// cores are all busy, an attacker's wrong passwords for imported accounts then take only CPU time
// that argon2id sign-ins and the event loop do not want. Linux schedules threads as tasks with ids of
// their own, and setpriority(2) on a thread's id changes that thread alone; /proc/thread-self names it.
import { pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { verifySync as argon2Verify } from "@node-rs/argon2";
import { verifySync as bcryptVerify } from "@node-rs/bcrypt";

try {
  const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
  if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, 19); // LEGACY_HASHING_NICENESS in hash-priority.ts;
} catch {
  // No /proc (not Linux), or not allowed: the pool's bound still holds.
}

/** One job: { id, kind, password, ... } as legacy-workers.ts sends it; the answer is { id, ok }. */
function verify(job) {
  switch (job.kind) {
    case "bcrypt":
      return bcryptVerify(job.password, job.hash);
    case "pbkdf2_sha256": {
      const expected = Buffer.from(job.hash);
      const derived = pbkdf2Sync(job.password, job.salt, job.iterations, expected.length, "sha256");
      return timingSafeEqual(derived, expected);
    }
    case "argon2":
      return argon2Verify(job.phc, job.password);
    default:
      return false;
  }
}

function answer(job) {
  try {
    return verify(job) === true;
  } catch {
    return false; // a stored value the library cannot use never matches
  }
}

parentPort.on("message", (job) => parentPort.postMessage({ id: job.id, ok: answer(job) }));
