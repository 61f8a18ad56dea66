import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, REPO_ROOT } from "../support/server-process.ts";

const DIST = join(REPO_ROOT, "dist");

/**
 * The packages every `famos` start loads: those imported by the entry's static import graph (the entry
 * and the chunks it imports at its top, transitively; esbuild's statements stand at a line's start).
 * Dynamic imports and createRequire calls run only where the code asks for them.
 */
function packagesAtStart(): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(DIST, file), "utf8");
    for (const [, specifier] of code.matchAll(/^(?:import|export)\b[^;"]*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"/gm)) {
      if (specifier === undefined || specifier.startsWith("node:")) continue;
      if (specifier.startsWith("./")) visit(specifier.slice(2));
      else packages.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!);
    }
  };
  visit("famos.mjs");
  return packages;
}

/**
 * The IT team runs `famos user show`, `famos rollout status` and the like by hand and in scripts over
 * thousands of users, and the tests spawn famos hundreds of times: each start paid for loading
 * prom-client (metrics only `famos serve` exposes), nodemailer (mail only some commands send) and zod
 * (used by the web forms; the settings need none of it), about 0.3 s of CPU here per command.
 */
describe("what every famos command loads at its start", () => {
  beforeAll(() => ensureBuilt());

  it("is neither the metrics library, nor the mail library, nor the forms' validation, nor the web server", () => {
    const loaded = packagesAtStart();
    expect(loaded.has("commander")).toBe(true);
    expect([...loaded].filter((name) => ["prom-client", "nodemailer", "zod", "fastify", "ioredis"].includes(name) || name.startsWith("@fastify/"))).toEqual([]);
  });
});
