import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliWorkspace } from "../cli/run-famos.ts";

/** A secret file that cannot be read is one problem, said once: not also "is required in production". */
describe("an unreadable secret file in production", () => {
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
  });
  afterAll(() => cli.remove());

  it.each([["migrate"], ["config"], ["doctor"]])("famos %s names the file and its fault, and nothing else about that secret", async (command) => {
    const missing = join(cli.dir, "no-such-secret");
    const result = await cli.run([command], {
      env: { NODE_ENV: "production", FAMOS_SECRET: "", FAMOS_SECRET_FILE: missing, FAMOS_SMTP_URL: "smtp://127.0.0.1:1", FAMOS_MAIL_FROM: "no-reply@famos.test", FAMOS_SUPPORT_EMAIL: "it@famos.test" },
    });
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toContain(`FAMOS_SECRET_FILE: cannot read ${missing} (ENOENT)`);
    expect(output).not.toMatch(/FAMOS_SECRET: is required/);
  });
});
