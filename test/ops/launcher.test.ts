import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.ts";

/** bin/famos.js, the launcher `npm start` and `famos` run: it builds only in a development checkout. */
describe("the famos launcher", () => {
  const dir = mkdtempSync(join(tmpdir(), "famos-launcher-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("in production never builds, even beside the sources: it says dist/ is missing and writes nothing", () => {
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "src/cli"), { recursive: true });
    copyFileSync(join(REPO_ROOT, "bin/famos.js"), join(dir, "bin/famos.js"));
    writeFileSync(join(dir, "src/cli/main.ts"), "export async function main() { return 0; }\n");
    const run = spawnSync(process.execPath, [join(dir, "bin/famos.js"), "migrate"], { env: { ...process.env, NODE_ENV: "production" }, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${join(dir, "dist/famos.mjs")} is missing; build it with \`npm run build\``);
    expect(existsSync(join(dir, "dist"))).toBe(false);
  });

  it("in a development checkout runs the current sources through the build", () => {
    const help = execFileSync(process.execPath, [join(REPO_ROOT, "bin/famos.js"), "--help"], { env: { ...process.env, NODE_ENV: "development" }, encoding: "utf8" });
    expect(help).toContain("doctor");
    expect(existsSync(join(REPO_ROOT, "dist/famos.mjs"))).toBe(true);
  });
});
