/**
 * Preloaded into a server by `bench/instructions.ts --cached-hashes`: @node-rs/argon2's `verify`
 * answers a (hash, password) pair it has verified once with that first, real answer, a turn of the
 * event loop later (setImmediate), instead of from a pool thread. A flow's main thread does what it
 * did but for the hash's own completion; the hash threads' ~86 M instructions per flow (argon2id's
 * 19 MB pass, the same every time, bench/HISTORY.md's fortieth round) are left out, so that a flow under
 * valgrind costs several times less CPU and runs fit on a loaded shared machine. Never for a timing run.
 * Plain JavaScript (the product's compiled build runs without a TypeScript loader).
 */
import { createRequire } from "node:module";
import { setImmediate } from "node:timers";
import { fileURLToPath } from "node:url";

// The package as the server resolves it (its working directory's node_modules, else this checkout's):
// required before the server imports it, so its ES import finds these exports.
const require = createRequire(import.meta.url);
const argon2 = require(require.resolve("@node-rs/argon2", { paths: [process.cwd(), fileURLToPath(new URL(".", import.meta.url))] }));
const real = argon2.verify;
const answers = new Map();
argon2.verify = function verify(hash, password, ...rest) {
  const key = `${hash}\u0000${password}`;
  const known = answers.get(key);
  if (known === undefined) return real.call(this, hash, password, ...rest).then((ok) => (answers.set(key, ok), ok));
  return new Promise((resolve) => setImmediate(() => resolve(known)));
};
