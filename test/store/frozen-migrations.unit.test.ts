import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * A migration is frozen once released: it must do on a new database what it did when it was written.
 * One that imports live product code (src/users, src/platform...) would silently do something else as
 * soon as that code changes. So a migration imports only kysely, node's built-ins and files of its own
 * directory (frozen helpers, src/store/migrations/frozen-*.ts, which themselves obey the same rule).
 */
const DIR = join(import.meta.dirname, "../../src/store/migrations");

/** Every module specifier a file imports or re-exports, type-only imports included, and dynamic imports. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\b[^'"`;]*?\bfrom\s*["']([^"']+)["']/g)) found.push(m[1]!);
  for (const m of text.matchAll(/(?:^|[\s;])import\s*["']([^"']+)["']/g)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']/g)) found.push(m[1]!);
  return found;
}

function allowed(specifier: string): boolean {
  if (specifier === "kysely") return true;
  if (specifier.startsWith("node:") || builtinModules.includes(specifier)) return true;
  // Relative, and staying in this directory: "./x.ts", never "../".
  return specifier.startsWith("./") && !specifier.slice(2).includes("/") && !specifier.includes("..");
}

describe("migrations are frozen", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".ts"));

  it("finds the migrations", () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it("no migration file imports from outside src/store/migrations (kysely and node built-ins aside)", () => {
    const outside = files.flatMap((file) => specifiers(readFileSync(join(DIR, file), "utf8")).filter((s) => !allowed(s)).map((s) => `${file}: ${s}`));
    expect(outside).toEqual([]);
  });

  it("the check reads every form of import", () => {
    const text = [
      'import type { Keys } from "../../platform/keys.ts";',
      "import {\n  a,\n  b,\n} from '../x.ts';",
      'export { c } from "../../y.ts";',
      'import "../../side-effect.ts";',
      'const m = await import("../../z.ts");',
      'import { sql } from "kysely";',
      'import { createHmac } from "node:crypto";',
      'import { h } from "./frozen-login-digest.ts";',
    ].join("\n");
    expect(specifiers(text).filter((s) => !allowed(s))).toEqual(["../../platform/keys.ts", "../x.ts", "../../y.ts", "../../side-effect.ts", "../../z.ts"]);
  });
});

describe("the frozen login digest (migrations 019, 021)", () => {
  it("is, as released, the form the live code counts and audits under", async () => {
    // Should the live form change, this goes red: the counters and trail 019 rewrote, and the digests
    // 021 kept, then need a new migration to the new form; the frozen copy itself stays as it is.
    const { frozenLoginDigest, FROZEN_NO_ACCOUNT_PREFIX } = await import("../../src/store/migrations/frozen-login-digest.ts");
    const { loginDigest, NO_ACCOUNT_PREFIX } = await import("../../src/users/login-digest.ts");
    const keys = { loginId: Buffer.alloc(32, 7) };
    for (const typed of ["Staff.1", " MÜLLER ", "mu\u0308ller", "Ǆ"]) expect(frozenLoginDigest(keys, typed)).toBe(loginDigest(keys, typed));
    expect(FROZEN_NO_ACCOUNT_PREFIX).toBe(NO_ACCOUNT_PREFIX);
  });
});
