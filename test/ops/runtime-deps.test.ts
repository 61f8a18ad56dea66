import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import type { BuildOptions } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.ts";

/** The package a bare specifier names: `@scope/name` or `name`, whatever path follows. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/**
 * What the built code loads from node_modules at run time: the packages esbuild leaves external
 * (scripts/build.js, EXTERNAL), which each chunk names in its imports, its dynamic imports and the
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

/**
 * The pure-JavaScript packages are bundled into dist/ (scripts/build.js), so none is loaded from
 * node_modules at run time; each must still be one `npm ci --omit=dev` installs (package-lock.json: not
 * "dev"), so the runtime tree's package.json and lockfile name, and ship the licence of, all the code
 * dist/ holds. A devDependency imported by src/ would otherwise be bundled in silently.
 */
describe("the bundled packages", () => {
  it("are all in the production install, and the native addons and pg are not among them", async () => {
    const { build } = await import("esbuild");
    const { options, EXTERNAL } = (await import(join(REPO_ROOT, "scripts/build.js"))) as {
      options: (outdir: string) => BuildOptions;
      EXTERNAL: string[];
    };
    const { metafile } = await build({ ...options(join(REPO_ROOT, "dist")), write: false });
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
    const folders = new Set<string>();
    for (const input of Object.keys(metafile!.inputs)) {
      // From the first node_modules/ on, as the lockfile names it (the checkout's may be a symlink).
      const folder = /(node_modules\/(?:.*\/node_modules\/)?(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
      if (folder !== undefined) folders.add(folder);
    }
    // The reading itself: the web server, the mail and bounce packages, the database layer.
    const names = [...folders].map((folder) => folder.replace(/^.*node_modules\//, ""));
    expect(names).toEqual(expect.arrayContaining(["fastify", "nodemailer", "smtp-server", "mailparser", "kysely", "zod", "pino"]));
    expect(names.filter((name) => EXTERNAL.includes(name))).toEqual([]);
    const notProduction = [...folders].filter((folder) => lock.packages[folder] === undefined || lock.packages[folder]!.dev === true);
    expect(notProduction, "bundled into dist/ but not installed by npm ci --omit=dev").toEqual([]);
  }, 60_000);

  it("are never imported dynamically from src/ when CommonJS: the chunk would give only a default export", async () => {
    // `const { Redis } = await import("ioredis")` works unbundled (Node reads CommonJS's named exports)
    // but esbuild's chunk exports module.exports as default only: famos doctor failed with 'Redis is not
    // a constructor'. Lazily loaded packages go through a module of ours that imports them statically.
    const { build } = await import("esbuild");
    const { options } = (await import(join(REPO_ROOT, "scripts/build.js"))) as { options: (outdir: string) => BuildOptions };
    const { metafile } = await build({ ...options(join(REPO_ROOT, "dist")), write: false });
    const inputs = metafile!.inputs;
    const dynamicCommonJs = Object.entries(inputs)
      .filter(([file]) => file.startsWith("src/"))
      .flatMap(([file, input]) => input.imports.filter((i) => i.kind === "dynamic-import" && !i.external && inputs[i.path]?.format === "cjs").map((i) => `${file}: import("${i.original}")`));
    expect(dynamicCommonJs).toEqual([]);
  }, 60_000);
});
