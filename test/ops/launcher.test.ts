import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

  it("in a development checkout it may not write (another user's, or read-only) whose sources are newer than dist/, says so in one line and exits 1, not esbuild's errors and a stack", () => {
    const checkout = mkdtempSync(join(tmpdir(), "famos-launcher-ro-"));
    try {
      for (const folder of ["bin", "scripts", "src/cli"]) mkdirSync(join(checkout, folder), { recursive: true });
      copyFileSync(join(REPO_ROOT, "bin/famos.js"), join(checkout, "bin/famos.js"));
      copyFileSync(join(REPO_ROOT, "scripts/build.js"), join(checkout, "scripts/build.js"));
      writeFileSync(join(checkout, "package.json"), '{ "type": "module" }\n');
      writeFileSync(join(checkout, "src/cli/main.ts"), "export async function main() { return 0; }\n");
      symlinkSync(join(REPO_ROOT, "node_modules"), join(checkout, "node_modules"));
      const root = process.getuid?.() === 0;
      chmodSync(checkout, root ? 0o755 : 0o555);
      const nobody = root ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
      const [command, ...words] = [...nobody, process.execPath, join(checkout, "bin/famos.js"), "migrate"];
      const run = spawnSync(command!, words, { env: { ...process.env, NODE_ENV: "development" }, encoding: "utf8" });
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toBe(
        `famos: ${join(checkout, "dist/famos.mjs")} is missing or older than the sources, and this process may not write ${join(checkout, "dist")}: ` +
          `run \`npm run build\` in ${checkout} as the user who may, or run famos as that user\n`,
      );
    } finally {
      chmodSync(checkout, 0o700);
      rmSync(checkout, { recursive: true, force: true });
    }
  });
});
