import { describe, expect, it } from "vitest";
import { plainLogLine } from "../../src/cli/context.ts";

/**
 * A command's log line (src/cli/context.ts): one plain line per record it is given, whatever the record
 * says. Which records a command prints is the level's business (the sender logs its per-message
 * deferrals at info, below the commands' warn), not a match on their words.
 */
describe("plainLogLine", () => {
  it("prints every record it is given as one line with its error's words, whatever its message says", () => {
    expect(plainLogLine(JSON.stringify({ level: 40, msg: "mail deferred", err: "451 try later" }))).toBe("famos: mail deferred: 451 try later");
    expect(plainLogLine(JSON.stringify({ level: 50, msg: "could not read the mail outbox", err: { message: "database is locked" } }))).toBe(
      "famos: could not read the mail outbox: database is locked",
    );
  });
});
