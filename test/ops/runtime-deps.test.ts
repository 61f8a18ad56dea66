import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.ts";

/** The package a bare specifier names: `@scope/name` or `name`, whatever path follows. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/**
 * What the built code loads from node_modules at run time: every package (scripts/build.js leaves them
 * external), which each chunk names in its imports, its dynamic imports and the
 * createRequire calls of the code loaded only when needed (pg).
 */
function packagesLoadedBy(dist: string): Map<string, string[]> {
  const loaded = new Map<string, string[]>();
  // Statements at a line's start (esbuild's output), dynamic imports and createRequire; a name must look
  // like a package's, so text that merely reads "from …" in a page's template is not taken for one.
  const forms = [/^(?:import|export)\b[^;"]*?\bfrom\s*"([^"]+)"/gm, /^import\s*"([^"]+)"/gm, /\bimport\(\s*"([^"]+)"\s*\)/g, /createRequire\(import\.meta\.url\)\("([^"]+)"\)/g];
  const PACKAGE = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w./-]*)?$/i;
  for (const file of readdirSync(dist).filter((name) => name.endsWith(".mjs"))) {
    const code = readFileSync(join(dist, file), "utf8");
    for (const form of forms) {
      for (const [, specifier] of code.matchAll(form)) {
        if (!PACKAGE.test(specifier!) || isBuiltin(specifier!)) continue;
        const name = packageOf(specifier!);
        loaded.set(name, [...(loaded.get(name) ?? []), file]);
      }
    }
  }
  return loaded;
}

/**
 * The runtime tree (deploy/runtime-tree.sh: the Dockerfile's, and any `npm ci --omit=dev` install)
 * holds the production dependencies only, so a package the built code loads but package.json lists
 * under devDependencies is missing there and fails only when that code first runs: smtp-server and
 * mailparser, which the bounce listener loads when FAMOS_BOUNCE_SMTP_PORT is set, stopped `famos
 * serve` from the image with ERR_MODULE_NOT_FOUND (test/ops/runtime-tree.test.ts starts it so).
 */
describe("the built code's packages", () => {
  let loaded: Map<string, string[]>;
  beforeAll(() => {
    execFileSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: "pipe" });
    loaded = packagesLoadedBy(join(REPO_ROOT, "dist"));
  }, 120_000);

  it("are all production dependencies, so the runtime tree holds every one", () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    // The reading itself: the native addons and pg's createRequire.
    expect([...loaded.keys()]).toEqual(expect.arrayContaining(["better-sqlite3", "@node-rs/argon2", "@node-rs/bcrypt", "pg"]));
    const missing = [...loaded].filter(([name]) => !(name in manifest.dependencies)).map(([name, files]) => `${name} (${[...new Set(files)].join(", ")})`);
    expect(missing, "loaded by dist/ but not in package.json's dependencies").toEqual([]);
  });
});
