import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { isSecretSetting, knownSettings, nearestSetting } from "../../src/config/known-settings.ts";
import { maskSetting } from "../../src/config/mask.ts";
import { describeUnknown, resolveSettings } from "../../src/config/sources.ts";
import { TEST_SECRET } from "../support/app.ts";

const dir = mkdtempSync(join(tmpdir(), "famos-settings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("the known settings", () => {
  it("are read off the configuration parser itself, so a setting added to config.ts is known at once", () => {
    const known = knownSettings();
    for (const name of ["FAMOS_SMTP_URL", "FAMOS_SECRET", "FAMOS_OTP_TTL", "FAMOS_VERSION_LABEL", "FAMOS_METRICS_ALLOW", "FAMOS_LOG_LEVEL"]) {
      expect(known).toContain(name);
    }
    expect(known.every((name) => name.startsWith("FAMOS_"))).toBe(true);
  });

  it("are each documented in README's configuration", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(knownSettings().filter((name) => !readme.includes(name))).toEqual([]);
  });

  it("that take <NAME>_FILE are the ones README lists as secret-bearing, in both places", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8").replace(/\s+/g, " ");
    const lists = [/The secret-bearing settings, (.*?), can also be read/, /Each secret-bearing setting \((.*?)\) also accepts/];
    for (const list of lists) {
      const named = [...(list.exec(readme)?.[1] ?? "").matchAll(/`(FAMOS_[A-Z0-9_]+)`/g)].map((m) => m[1]);
      expect(named.sort(), String(list)).toEqual(knownSettings().filter(isSecretSetting).slice().sort());
    }
  });

  it("suggest the nearest known name for a misspelt one, and none for a stranger", () => {
    expect(nearestSetting("FAMOS_SMTP_ULR")).toBe("FAMOS_SMTP_URL");
    expect(nearestSetting("FAMOS_SESION_IDLE")).toBe("FAMOS_SESSION_IDLE");
    expect(nearestSetting("FAMOS_SECRET_FLIE")).toBe("FAMOS_SECRET_FILE");
    expect(nearestSetting("FAMOS_COMPLETELY_DIFFERENT_THING")).toBeNull();
  });

  it("count URLs with credentials and the secret as secret-bearing", () => {
    for (const name of ["FAMOS_SECRET", "FAMOS_SMTP_URL", "FAMOS_DATABASE_URL", "FAMOS_REDIS_URL"]) expect(isSecretSetting(name)).toBe(true);
    expect(isSecretSetting("FAMOS_OTP_TTL")).toBe(false);
    // Settings that set a password policy hold no secret: famos config must show them.
    expect(isSecretSetting("FAMOS_PASSWORD_RESET")).toBe(false);
    expect(isSecretSetting("FAMOS_TEMP_PASSWORD_TTL")).toBe(false);
  });
});

describe("settings from the environment, a settings file and _FILE secrets", () => {
  it("reports a misspelt variable naming the one it probably meant, and ignores it", () => {
    const resolved = resolveSettings({ FAMOS_SMTP_ULR: "smtp://mail.example:25" });
    expect(resolved.unknown.map(describeUnknown)).toEqual([
      "FAMOS_SMTP_ULR is not a FAMOS setting (did you mean FAMOS_SMTP_URL?); it is ignored [environment]",
    ]);
    expect(resolved.env.FAMOS_SMTP_URL).toBeUndefined();
  });

  it("takes FAMOS_SECRET from FAMOS_SECRET_FILE, without the file's final newline", () => {
    const path = file("secret", `${TEST_SECRET}\n`);
    const resolved = resolveSettings({ FAMOS_SECRET_FILE: path });
    expect(resolved.problems).toEqual([]);
    expect(resolved.env.FAMOS_SECRET).toBe(TEST_SECRET);
    expect(resolved.sources.get("FAMOS_SECRET")).toBe(`FAMOS_SECRET_FILE ${path}`);
    const loaded = loadConfig(resolved.env);
    expect(loaded.ok && loaded.config.secret?.toString("hex")).toBe(Buffer.from(TEST_SECRET, "hex").toString("hex"));
  });

  it("takes a setting that is itself a path (FAMOS_DKIM_KEY_FILE) as the path, and secrets added later by name", () => {
    const resolved = resolveSettings({ FAMOS_DKIM_KEY_FILE: "/etc/famos/dkim.pem" });
    expect(resolved).toMatchObject({ problems: [], unknown: [] });
    expect(resolved.env.FAMOS_DKIM_KEY_FILE).toBe("/etc/famos/dkim.pem");
    expect(maskSetting("FAMOS_DKIM_KEY_FILE", "/etc/famos/dkim.pem")).toBe("/etc/famos/dkim.pem");
    expect(isSecretSetting("FAMOS_BOUNCE_WEBHOOK_SECRET")).toBe(true);
    const webhook = resolveSettings({ FAMOS_BOUNCE_WEBHOOK_SECRET_FILE: file("webhook", "w".repeat(40)) });
    expect(webhook.env.FAMOS_BOUNCE_WEBHOOK_SECRET).toBe("w".repeat(40));
  });

  it("refuses a secret given both directly and as a file, and a secret file it cannot read", () => {
    expect(resolveSettings({ FAMOS_SECRET: TEST_SECRET, FAMOS_SECRET_FILE: file("s2", TEST_SECRET) }).problems).toEqual([
      "FAMOS_SECRET_FILE: FAMOS_SECRET is set as well (environment); set one of them",
    ]);
    expect(resolveSettings({ FAMOS_SMTP_URL_FILE: join(dir, "missing") }).problems).toEqual([`FAMOS_SMTP_URL_FILE: cannot read ${join(dir, "missing")} (ENOENT)`]);
  });

  it("refuses an empty secret file, rather than taking the secret as unset (development made one up; production asked for it)", () => {
    for (const [name, text] of [["empty", ""], ["newline", "\n"], ["blank", " \r\n"]] as const) {
      const path = file(name, text);
      const resolved = resolveSettings({ FAMOS_SECRET_FILE: path });
      expect(resolved.problems, name).toEqual([`FAMOS_SECRET_FILE: ${path} is empty: put FAMOS_SECRET's value in it`]);
      expect(resolved.env.FAMOS_SECRET, name).toBeUndefined();
    }
  });

  it("combines a TOML file with the environment, the environment winning, and says where each came from", () => {
    const path = file(
      "famos.toml",
      ['otp_ttl = "10m"', 'FAMOS_TIMEZONE = "Europe/Dublin"', "otp_tries = 3", 'allowed_email_domains = ["dealer.example", "*.group.example"]'].join("\n"),
    );
    const resolved = resolveSettings({ FAMOS_OTP_TTL: "5m" }, path);
    expect(resolved.problems).toEqual([]);
    expect(resolved.env).toMatchObject({ FAMOS_OTP_TTL: "5m", FAMOS_TIMEZONE: "Europe/Dublin", FAMOS_OTP_TRIES: "3" });
    expect(resolved.sources.get("FAMOS_OTP_TTL")).toBe("environment");
    expect(resolved.sources.get("FAMOS_TIMEZONE")).toBe(`file ${path}`);
    const loaded = loadConfig(resolved.env);
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    expect(loaded.config.otp.ttlMs).toBe(5 * 60_000);
    expect(loaded.config.otp.tries).toBe(3);
    expect(loaded.config.enrolment.allowedDomains).toEqual(["dealer.example", "*.group.example"]);
  });

  it("reads the file named by FAMOS_CONFIG, and checks its names as the environment's", () => {
    const path = file("typo.toml", 'smtp_ulr = "smtp://mail.example"\n');
    const resolved = resolveSettings({ FAMOS_CONFIG: path });
    expect(resolved.unknown).toEqual([{ name: "FAMOS_SMTP_ULR", suggestion: "FAMOS_SMTP_URL", from: `file ${path}` }]);
  });

  it("says which line of a broken settings file is wrong, and what a missing one is", () => {
    const broken = file("broken.toml", 'otp_ttl = "10m"\notp_tries = = 3\n');
    expect(resolveSettings({}, broken).problems[0]).toMatch(new RegExp(`^FAMOS_CONFIG: the settings file ${broken} is not valid TOML at line 2`));
    expect(resolveSettings({}, join(dir, "none.toml")).problems).toEqual([`FAMOS_CONFIG: cannot read the settings file "${join(dir, "none.toml")}": there is no such file (ENOENT)`]);
    expect(resolveSettings({}, file("table.toml", "[smtp]\nurl = 1\n")).problems[0]).toMatch(/"smtp" must be a string/);
  });

  it("refuses one setting given twice in the file under two spellings, rather than taking the last", () => {
    for (const [name, text] of [
      ["twice-prefix.toml", 'smtp_url = "smtp://one.example"\nFAMOS_SMTP_URL = "smtp://two.example"\n'],
      ["twice-case.toml", 'Otp_Ttl = "10m"\notp_ttl = "5m"\n'],
      ["twice-file.toml", 'secret_file = "/run/secrets/a"\nFAMOS_SECRET_FILE = "/run/secrets/b"\n'],
    ] as const) {
      const path = file(name, text);
      const [first, second] = text.split("\n").map((line) => line.split(" = ")[0]);
      const resolved = resolveSettings({}, path);
      expect(resolved.problems, name).toEqual([`FAMOS_CONFIG: ${path}: "${first}" and "${second}" are the same setting; keep one of them`]);
    }
  });
});

describe("masking settings for display", () => {
  it("hides secrets and the passwords in addresses, and keeps the rest readable", () => {
    expect(maskSetting("FAMOS_SECRET", TEST_SECRET)).toBe("****");
    expect(maskSetting("FAMOS_SMTP_URL", "smtp://famos:hunter2@mail.example:587")).toBe("smtp://famos:****@mail.example:587");
    expect(maskSetting("FAMOS_DATABASE_URL", "postgres://famos@db/famos?password=hunter2")).toBe("postgres://famos@db/famos?password=****");
    expect(maskSetting("FAMOS_DATABASE_URL", "sqlite:./data/famos.db")).toBe("sqlite:./data/famos.db");
    expect(maskSetting("FAMOS_OTP_TTL", "15m")).toBe("15m");
  });
});
