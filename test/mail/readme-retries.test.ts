import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";

/** The README's "Mail outbox" gives the retry schedule an operator plans an SMTP outage by: keep it the sender's. */
describe("the README's mail retry schedule", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const { backoffMs, retryWindowMs } = DEFAULT_SENDER_OPTIONS;
  const HOUR = 3_600_000;
  /** When each try of a message refused from the start happens (ms after it was written), while before `until`. */
  const tries = (until: number) => {
    const at = [0];
    for (let attempt = 1; ; attempt += 1) {
      const next = at.at(-1)! + backoffMs(attempt, at.at(-1)!);
      if (next >= until) return at;
      at.push(next);
    }
  };

  it("names the sender's waits, the first hour's and the later ones", () => {
    const waits = [1, 2, 3, 4, 5].map((attempt) => `${backoffMs(attempt, 0) / 1000} s`).join(", ");
    expect(readme).toContain(`retried after ${waits}, then every ${backoffMs(20, 0) / 1000} s (every ${backoffMs(20, HOUR) / 1000} s once a message is an hour old)`);
  });

  it("names how long a code's mail is tried (the default FAMOS_OTP_TTL), and when a 300 s greylist lets it through", () => {
    const config = loadConfig({ FAMOS_SECRET: "a".repeat(64) });
    if (!config.ok) throw new Error(config.errors.join("; "));
    const code = tries(config.config.otp.ttlMs);
    expect(readme).toContain(`${code.length} tries, the last at ${code.at(-1)! / 1000} s`);
    expect(readme).toContain(`at the try at ${tries(10 * 60_000).find((at) => at >= 300_000)! / 1000} s`);
  });

  it("names how long mail without a code is tried", () => {
    const other = tries(retryWindowMs);
    expect(readme).toContain(`for ${retryWindowMs / HOUR} hours (${other.length} tries)`);
  });
});
