#!/usr/bin/env node
// Runs the TypeScript command line directly: no build step after `npm install`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
const argv = process.argv.slice(2);
const code = await main(argv);
if (code !== 0 || !argv.includes("serve")) process.exit(code);
