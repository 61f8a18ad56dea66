// Compiles the TypeScript sources into one ES module under .build/ when they changed since the last
// compile, so `npm start` and `npx famos` need no separate build step, and the running server carries
// no TypeScript loader (a loader thread costs ~35 MB of memory and start-up time on every process).
import { copyFileSync, cpSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".build");
const entry = join(out, "famos.mjs");

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
    return statSync(entry).mtimeMs;
  } catch {
    return -1;
  }
}

/** Returns the path of the compiled command line, compiling first when a source is newer. */
export async function compiled() {
  if (builtAt() >= Math.max(newestSource(join(root, "src")), statSync(join(root, "package.json")).mtimeMs)) return entry;
  const { build } = await import("esbuild");
  // Several processes may start at once (tests, instances): each compiles into its own folder and
  // renames the result into place, so none ever reads a half-written file.
  const staging = join(out, `staging-${process.pid}-${Date.now()}`);
  await build({
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
  mkdirSync(out, { recursive: true });
  // The entry goes last: whoever sees the new entry also finds the chunks it imports.
  const names = readdirSync(staging).sort((a, b) => Number(a.startsWith("famos.")) - Number(b.startsWith("famos.")));
  for (const name of names) {
    if (statSync(join(staging, name)).isDirectory()) rmSync(join(out, name), { recursive: true, force: true });
    renameSync(join(staging, name), join(out, name));
  }
  rmSync(staging, { recursive: true, force: true });
  return entry;
}
