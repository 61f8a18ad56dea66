#!/usr/bin/env -S node --max-semi-space-size=4
// `famos <command>`: runs the command line built into dist/ (`npm run build`).
//
// In a development checkout (the sources are there and NODE_ENV is not production) a source newer
// than the build is compiled first, through the same build, so `npm install && npm start` needs no
// separate step. In production, or in an install without sources, nothing is ever written inside the
// install folder: the folder may be read-only and owned by another user.
//
// --max-semi-space-size=4: a sign-in server's garbage is short-lived and small, so a 4 MB young
// generation (V8 lets it grow to 16 MB per semi-space) costs no measurable throughput and keeps the
// resident size about 60 MB lower (npm run bench). `npm start` passes the same flag.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = fileURLToPath(new URL("../dist/famos.mjs", import.meta.url));
const development = process.env.NODE_ENV !== "production" && existsSync(new URL("../src/cli/main.ts", import.meta.url));

if (development) {
  const { build, DIST, ENTRY, mayBuild, stale } = await import("../scripts/build.js");
  if (stale()) {
    if (!mayBuild()) {
      const checkout = dirname(DIST);
      process.stderr.write(`famos: ${ENTRY} is missing or older than the sources, and this process may not write ${DIST}: run \`npm run build\` in ${checkout} as the user who may, or run famos as that user\n`);
      process.exit(1);
    }
    await build();
  }
} else if (!existsSync(entry)) {
  process.stderr.write(`famos: ${entry} is missing; build it with \`npm run build\` in ${root}\n`);
  process.exit(1);
}

const { main } = await import(pathToFileURL(entry).href);
const argv = process.argv.slice(2);
const code = await main(argv);
if (code !== 0 || !argv.includes("serve")) process.exit(code);
