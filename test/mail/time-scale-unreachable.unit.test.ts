import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { sendingOptions } from "../../src/mail/transport.ts";

const SRC = join(import.meta.dirname, "../../src");
const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith(".ts") ? [join(dir, f)] : []));

/**
 * 0a945af: SendingOptions.timeScale and checkSmtp's timeScale shrink the relay's waits for a test of
 * real sockets. No configuration reaches them (SPEC: the env vars are the contract; SENDER_TIMEOUTS is
 * production's): sendingOptions, the one way the configuration becomes sending options, never sets it,
 * and no product code passes one.
 */
describe("timeScale is for tests alone", () => {
  it("the configuration's sending options have none, whatever the environment holds", () => {
    const loaded = loadConfig({ FAMOS_TIME_SCALE: "0.001", FAMOS_TIMESCALE: "0.001", TIME_SCALE: "0.001", FAMOS_BOUNCE_DOMAIN: "bounces.famos.test" });
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const options = sendingOptions(loaded.config);
    expect(Object.keys(options).sort()).toEqual(["bounceDomain", "dkim"]);
    expect(JSON.stringify(loaded.config)).not.toMatch(/scale/i);
  });

  it("no product code passes one: src names it only where it is declared and applied", () => {
    const naming = files(SRC)
      .filter((f) => /timeScale/.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f))
      .sort();
    expect(naming).toEqual(["mail/smtp-check.ts", "mail/transport.ts"]);
    // In those two: the declaration, the option read, and its use; never a value given.
    for (const f of naming) expect(readFileSync(join(SRC, f), "utf8")).not.toMatch(/timeScale\s*:\s*(?!number)[^;,}\s]/);
  });
});
