#!/usr/bin/env node
// `famos <command>`: compiles the TypeScript sources when they changed (no separate build step after
// `npm install`), then runs the command line.
import { pathToFileURL } from "node:url";
import { compiled } from "./compile.js";

const { main } = await import(pathToFileURL(await compiled()).href);
const argv = process.argv.slice(2);
const code = await main(argv);
if (code !== 0 || !argv.includes("serve")) process.exit(code);
