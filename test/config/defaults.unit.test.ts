import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { knownSettings } from "../../src/config/known-settings.ts";
import { TEST_SECRET } from "../support/app.ts";

/** What production requires, given; everything else left to its default. */
const MODES: Record<string, Record<string, string>> = {
  development: {},
  production: {
    NODE_ENV: "production",
    FAMOS_SECRET: TEST_SECRET,
    FAMOS_SMTP_URL: "smtp://mail.dealer.example:25",
    FAMOS_MAIL_FROM: "no-reply@dealer.example",
    FAMOS_SUPPORT_EMAIL: "it@dealer.example",
    FAMOS_PUBLIC_URL: "https://famos.dealer.example",
  },
};

/**
 * `famos config` shows a setting left alone with the value the parser took for it. Those values are
 * recorded by the parser itself as it falls back on them, and each must be the setting's value
 * indeed: given explicitly, it changes nothing.
 */
describe.each(Object.keys(MODES))("the defaults loadConfig reports (%s)", (mode) => {
  const env = MODES[mode]!;
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));

  it("cover the settings that have a value when unset, and only settings that were unset", () => {
    const defaults = loaded.defaults;
    expect([...defaults.keys()].filter((name) => !knownSettings().includes(name))).toEqual([]);
    expect([...defaults.keys()].filter((name) => name in env)).toEqual([]);
    for (const name of ["FAMOS_HOST", "FAMOS_PORT", "FAMOS_OTP_TTL", "FAMOS_RATE_LIMIT", "FAMOS_SECTIONS", "FAMOS_SHARED_MAILBOX_NAMES", "FAMOS_UPSTREAM_SANDBOX"]) {
      expect(defaults.get(name), name).toBeTruthy();
    }
    for (const name of ["FAMOS_REDIS_URL", "FAMOS_COOKIE_DOMAIN", "FAMOS_UPSTREAM_URL"]) expect(defaults.has(name), name).toBe(false);
  });

  it("are each the value the setting takes: given explicitly, the configuration is the same", () => {
    for (const [name, value] of loaded.defaults) {
      const given = loadConfig({ ...env, [name]: value });
      if (!given.ok) throw new Error(`${name}=${value}: ${given.errors.join("; ")}`);
      // But one: FAMOS_PUBLIC_URL's default is the address of links and mail, while the Origin check
      // and the passkeys' relying party follow each request's host; given, it is the only origin.
      const expected = name === "FAMOS_PUBLIC_URL" ? { ...loaded.config, publicUrlExplicit: true, passkeys: { rpId: "localhost" } } : loaded.config;
      expect(given.config, `${name}=${value}`).toEqual(expected);
    }
  });
});
