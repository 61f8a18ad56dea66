import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";

/** The README's "Mail outbox" gives the retry schedule an operator plans an SMTP outage by: keep it the sender's. */
describe("the README's mail retry schedule", () => {
  it("names the sender's waits, its number of tries and the time they span", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const { maxAttempts, backoffMs } = DEFAULT_SENDER_OPTIONS;
    // A message is tried maxAttempts times, with a wait after each try but the last.
    let spanMs = 0;
    for (let attempt = 1; attempt < maxAttempts; attempt += 1) spanMs += backoffMs(attempt);
    const waits = [1, 2, 3].map((attempt) => `${backoffMs(attempt) / 1000} s`).join(", ");
    expect(readme).toContain(`retried after ${waits} … (${maxAttempts} tries over ${spanMs / 1000} s,`);
  });
});
