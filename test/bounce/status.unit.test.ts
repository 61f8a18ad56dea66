import { describe, expect, it } from "vitest";
import { statusBlamesAddress } from "../../src/bounce/status.ts";

/**
 * The one rule for whether an RFC 3463 status blames the recipient's address, at RCPT TO (FAMOS's own
 * relay refusing while sending) and in a bounce report, as a table: a status about FAMOS's sender, the
 * relay's policy, a full mailbox, the message, the protocol, the content or the network never blames the
 * address (it would come back for every staff member alike); a report's generic 5.0.0 and 5.4.4 (a
 * domain that does not exist, Postfix's "Host or domain name not found") do.
 */
describe("statusBlamesAddress", () => {
  const table: [status: string | null, rcpt: boolean, report: boolean][] = [
    ["5.1.1", true, true],
    ["5.1.2", true, true],
    ["5.1.10", true, true],
    ["5.1.7", false, false],
    ["5.1.8", false, false],
    ["5.2.0", false, true],
    ["5.2.1", true, true],
    ["5.2.2", false, false],
    ["5.2.3", false, false],
    ["5.2.4", false, false],
    ["5.2.5", false, true],
    ["5.0.0", false, true],
    ["5.0.1", false, true],
    ["5.3.0", false, true],
    ["5.3.1", false, false],
    ["5.3.4", false, false],
    ["5.4.0", false, true],
    ["5.4.1", false, false],
    ["5.4.4", false, true],
    ["5.4.6", false, false],
    ["5.5.0", false, false],
    ["5.6.1", false, false],
    ["5.7.1", false, false],
    ["5.7.26", false, false],
    ["5.8.1", false, true],
    ["4.1.1", false, false],
    ["2.0.0", false, false],
    ["5.1", false, false],
    ["5.1.1 ", false, false],
    ["x5.1.1", false, false],
    ["", false, false],
    [null, false, false],
  ];
  it.each(table)("%s: at RCPT TO %s, in a report %s", (status, rcpt, report) => {
    expect([statusBlamesAddress(status, "rcpt"), statusBlamesAddress(status, "report")]).toEqual([rcpt, report]);
  });
});
