import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "../support/app.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

describe("famos config", () => {
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
    writeFileSync(join(cli.dir, "famos.toml"), 'smtp_url = "smtp://famos:hunter2@mail.dealer.example:587"\notp_ttl = "10m"\ntimezone = "Europe/Dublin"\n');
    writeFileSync(join(cli.dir, "secret"), `${TEST_SECRET}\n`);
  });
  afterAll(() => cli?.remove());

  const line = (stdout: string, name: string) => stdout.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";

  it("prints the effective settings with secrets masked and where each came from", async () => {
    const result = await cli.run(["--config", "famos.toml", "config"], {
      env: { FAMOS_SECRET: "", FAMOS_SECRET_FILE: join(cli.dir, "secret"), FAMOS_OTP_TTL: "5m" },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(line(result.stdout, "FAMOS_SMTP_URL")).toMatch(/^FAMOS_SMTP_URL\s+smtp:\/\/famos:\*\*\*\*@mail.dealer.example:587\s+file famos.toml$/);
    expect(line(result.stdout, "FAMOS_OTP_TTL")).toMatch(/^FAMOS_OTP_TTL\s+5m\s+environment$/);
    expect(line(result.stdout, "FAMOS_TIMEZONE")).toMatch(/^FAMOS_TIMEZONE\s+Europe\/Dublin\s+file famos.toml$/);
    expect(line(result.stdout, "FAMOS_SECRET")).toMatch(new RegExp(`^FAMOS_SECRET\\s+\\*\\*\\*\\*\\s+FAMOS_SECRET_FILE ${join(cli.dir, "secret")}$`));
    expect(line(result.stdout, "FAMOS_SESSION_IDLE")).toMatch(/^FAMOS_SESSION_IDLE\s+default$/);
    expect(result.stdout).not.toContain("hunter2");
    expect(result.stdout).not.toContain(TEST_SECRET);
  });

  it("shows settings whose names only mention a password (FAMOS_PASSWORD_RESET, FAMOS_TEMP_PASSWORD_TTL), and masks the webhook secret", async () => {
    const webhookSecret = "w".repeat(40);
    const result = await cli.run(["config"], {
      env: { FAMOS_PASSWORD_RESET: "self", FAMOS_TEMP_PASSWORD_TTL: "24h", FAMOS_BOUNCE_WEBHOOK_SECRET: webhookSecret },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(line(result.stdout, "FAMOS_PASSWORD_RESET")).toMatch(/^FAMOS_PASSWORD_RESET\s+self\s+environment$/);
    expect(line(result.stdout, "FAMOS_TEMP_PASSWORD_TTL")).toMatch(/^FAMOS_TEMP_PASSWORD_TTL\s+24h\s+environment$/);
    expect(line(result.stdout, "FAMOS_BOUNCE_WEBHOOK_SECRET")).toMatch(/^FAMOS_BOUNCE_WEBHOOK_SECRET\s+\*\*\*\*\s+environment$/);
    expect(result.stdout).not.toContain(webhookSecret);
  });

  it("fails on a misspelt setting with the nearest known name", async () => {
    const result = await cli.run(["config"], { env: { FAMOS_SMTP_ULR: "smtp://mail.dealer.example" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("FAMOS_SMTP_ULR is not a FAMOS setting (did you mean FAMOS_SMTP_URL?)");
  });

  it("fails on an invalid value, naming its setting", async () => {
    const result = await cli.run(["config"], { env: { FAMOS_OTP_TTL: "forever" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("FAMOS_OTP_TTL: must be a duration");
  });
});
