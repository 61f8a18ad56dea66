import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "../support/app.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

// Real `famos` processes for what reads the working directory (--config famos.toml, ./data/secret)
// and for one refusal's exit 1; the rest are the same command through main() in this process
// (cli.inProcess), checked as before.
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
    // A setting left alone shows the value it takes, marked as the default; one with none says so.
    expect(line(result.stdout, "FAMOS_SESSION_IDLE")).toMatch(/^FAMOS_SESSION_IDLE\s+30m\s+default$/);
    expect(line(result.stdout, "FAMOS_HOST")).toMatch(/^FAMOS_HOST\s+localhost\s+default$/);
    expect(line(result.stdout, "FAMOS_PUBLIC_URL")).toMatch(/^FAMOS_PUBLIC_URL\s+http:\/\/localhost:3000\s+default$/);
    expect(line(result.stdout, "FAMOS_RATE_LIMIT")).toMatch(/^FAMOS_RATE_LIMIT\s+300\s+default$/);
    expect(line(result.stdout, "FAMOS_REDIS_URL")).toMatch(/^FAMOS_REDIS_URL\s+\(not set\)\s+default$/);
    expect(result.stdout).not.toContain("hunter2");
    expect(result.stdout).not.toContain(TEST_SECRET);
  });

  it("shows settings whose names only mention a password (FAMOS_PASSWORD_RESET, FAMOS_TEMP_PASSWORD_TTL), and masks the webhook secret", async () => {
    const webhookSecret = "w".repeat(40);
    const result = await cli.inProcess(["config"], {
      env: { FAMOS_PASSWORD_RESET: "self", FAMOS_TEMP_PASSWORD_TTL: "24h", FAMOS_BOUNCE_WEBHOOK_SECRET: webhookSecret },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(line(result.stdout, "FAMOS_PASSWORD_RESET")).toMatch(/^FAMOS_PASSWORD_RESET\s+self\s+environment$/);
    expect(line(result.stdout, "FAMOS_TEMP_PASSWORD_TTL")).toMatch(/^FAMOS_TEMP_PASSWORD_TTL\s+24h\s+environment$/);
    expect(line(result.stdout, "FAMOS_BOUNCE_WEBHOOK_SECRET")).toMatch(/^FAMOS_BOUNCE_WEBHOOK_SECRET\s+\*\*\*\*\s+environment$/);
    expect(result.stdout).not.toContain(webhookSecret);
  });

  it("shows the defaults of production where they differ from development's, and the default database", async () => {
    const result = await cli.inProcess(["config"], {
      env: { NODE_ENV: "production", FAMOS_DATABASE_URL: "", FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_SMTP_URL: "smtp://mail.dealer.example:25", FAMOS_MAIL_FROM: "no-reply@dealer.example", FAMOS_SUPPORT_EMAIL: "it@dealer.example" },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(line(result.stdout, "FAMOS_HOST")).toMatch(/^FAMOS_HOST\s+0\.0\.0\.0\s+default$/);
    expect(line(result.stdout, "FAMOS_STRONG_FACTOR_ROLES")).toMatch(/^FAMOS_STRONG_FACTOR_ROLES\s+support,admin\s+default$/);
    expect(line(result.stdout, "FAMOS_RP_ID")).toMatch(/^FAMOS_RP_ID\s+famos\.dealer\.example\s+default$/);
    expect(line(result.stdout, "FAMOS_BOUNCE_SMTP_HOST")).toMatch(/^FAMOS_BOUNCE_SMTP_HOST\s+0\.0\.0\.0\s+default$/);
    expect(line(result.stdout, "FAMOS_DATABASE_URL")).toMatch(/^FAMOS_DATABASE_URL\s+sqlite:\.\/data\/famos\.db\s+default$/);
    expect(line(result.stdout, "FAMOS_DATABASE_TIMEOUT")).toMatch(/^FAMOS_DATABASE_TIMEOUT\s+5s\s+default$/);
    expect(line(result.stdout, "FAMOS_SECRET")).toMatch(/^FAMOS_SECRET\s+\*\*\*\*\s+environment$/);
  });

  it("says what development does with FAMOS_SECRET unset: generated into ./data/secret at the next start, then kept there; never the secret", async () => {
    const unset = { FAMOS_SECRET: "" };
    const before = await cli.run(["config"], { env: unset });
    expect(before.code, before.stderr).toBe(0);
    // The workspace's own ./data holds no secret yet.
    expect(existsSync(join(cli.dir, "data", "secret"))).toBe(false);
    expect(line(before.stdout, "FAMOS_SECRET")).toMatch(/^FAMOS_SECRET\s+\(development: generated into \.\/data\/secret at the next start\)\s+default$/);
    mkdirSync(join(cli.dir, "data"), { recursive: true });
    writeFileSync(join(cli.dir, "data", "secret"), `${TEST_SECRET}\n`);
    try {
      const after = await cli.run(["config"], { env: unset });
      expect(after.code, after.stderr).toBe(0);
      expect(line(after.stdout, "FAMOS_SECRET")).toMatch(/^FAMOS_SECRET\s+\(development: kept in \.\/data\/secret\)\s+default$/);
      expect(after.stdout).not.toContain(TEST_SECRET);
      // Production generates none: unset is unset, and an error.
      const production = await cli.run(["config"], { env: { ...unset, NODE_ENV: "production" } });
      expect(line(production.stdout, "FAMOS_SECRET")).toMatch(/^FAMOS_SECRET\s+\(not set\)\s+default$/);
      expect(production.stderr).toContain("FAMOS_SECRET: is required in production");
    } finally {
      rmSync(join(cli.dir, "data", "secret"));
    }
  });

  it("fails on a misspelt setting with the nearest known name", async () => {
    const result = await cli.run(["config"], { env: { FAMOS_SMTP_ULR: "smtp://mail.dealer.example" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("FAMOS_SMTP_ULR is not a FAMOS setting (did you mean FAMOS_SMTP_URL?)");
  });

  it("fails on an invalid value, naming its setting", async () => {
    const result = await cli.inProcess(["config"], { env: { FAMOS_OTP_TTL: "forever" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("FAMOS_OTP_TTL: must be a duration");
  });
});
