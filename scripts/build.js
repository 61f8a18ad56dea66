// The one build: compiles the TypeScript sources into one ES module and its chunks under dist/, with
// the files the code reads beside itself. `npm run build` runs it; in a development checkout
// bin/famos.js runs the same build when a source changed since the last one, so `npm start` and
// `npx famos` need no separate step. The running server carries no TypeScript loader (a loader thread
// costs ~35 MB of memory and start-up time on every process) and no build tool (esbuild is a
// devDependency: `npm ci --omit=dev` plus dist/ is the whole runtime).
import { accessSync, constants, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(root, "dist");
export const ENTRY = join(DIST, "famos.mjs");

function newestSource(dir) {
  let newest = 0;
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    newest = Math.max(newest, item.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(ENTRY).mtimeMs;
  } catch {
    return -1;
  }
}

/** True when a source (or package.json) is newer than the last build. */
export function stale() {
  return builtAt() < Math.max(newestSource(join(root, "src")), statSync(join(root, "package.json")).mtimeMs);
}

/**
 * Whether this process may build into dist/ (or make it): a checkout owned by another user, or on a
 * read-only mount, may not, and esbuild would only say "Failed to create output directory" and throw.
 */
export function mayBuild() {
  try {
    accessSync(existsSync(DIST) ? DIST : root, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Compiles src/ into dist/. `prune` removes files an earlier build left (chunk names carry a hash);
 * the automatic development rebuild keeps them, as a running process may still load one lazily.
 */
export async function build({ prune = false } = {}) {
  const { build: esbuild } = await import("esbuild");
  // Several processes may start at once (tests, instances): each compiles into its own folder and
  // renames the result into place, so none ever reads a half-written file.
  const staging = join(DIST, `staging-${process.pid}-${Date.now()}`);
  await esbuild({
    entryPoints: { famos: join(root, "src/cli/main.ts") },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    outExtension: { ".js": ".mjs" },
    sourcemap: "linked",
    logLevel: "error",
  });
  // Files the code reads beside itself at run time.
  cpSync(join(root, "src/web/public"), join(staging, "public"), { recursive: true });
  copyFileSync(join(root, "src/password/common-passwords.txt"), join(staging, "common-passwords.txt"));
  copyFileSync(join(root, "src/password/legacy-worker.mjs"), join(staging, "legacy-worker.mjs"));
  copyFileSync(join(root, "src/store/checkpoint-worker.mjs"), join(staging, "checkpoint-worker.mjs"));
  mkdirSync(DIST, { recursive: true });
  // The entry goes last: whoever sees the new entry also finds the chunks it imports.
  const names = readdirSync(staging).sort((a, b) => Number(a.startsWith("famos.")) - Number(b.startsWith("famos.")));
  for (const name of names) {
    if (statSync(join(staging, name)).isDirectory()) rmSync(join(DIST, name), { recursive: true, force: true });
    renameSync(join(staging, name), join(DIST, name));
  }
  rmSync(staging, { recursive: true, force: true });
  if (prune) {
    for (const name of readdirSync(DIST)) {
      if (!names.includes(name) && !name.startsWith("staging-")) rmSync(join(DIST, name), { recursive: true, force: true });
    }
  }
  return ENTRY;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await build({ prune: true });
  process.stderr.write(`Built ${ENTRY}\n`);
}
