#!/usr/bin/env -S node --max-semi-space-size=4
// `famos <command>`: compiles the TypeScript sources when they changed (no separate build step after
// `npm install`), then runs the command line.
//
// --max-semi-space-size=4: a sign-in server's garbage is short-lived and small, so a 4 MB young
// generation (V8 lets it grow to 16 MB per semi-space) costs no measurable throughput and keeps the
// resident size about 60 MB lower (npm run bench). `npm start` passes the same flag.
import { pathToFileURL } from "node:url";
import { compiled } from "./compile.js";

const { main } = await import(pathToFileURL(await compiled()).href);
const argv = process.argv.slice(2);
const code = await main(argv);
if (code !== 0 || !argv.includes("serve")) process.exit(code);
