import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { refusedRelaying } from "../../src/store/migrations/020-mail-faults.ts";

const rejected = (reply: string) => `Can't send mail - all recipients were rejected: ${reply}`;

/**
 * Migration 020 reads the words of mail failed before it (nodemailer's text in outbox.last_error) once,
 * and stores "relaying" for a refusal to relay at RCPT TO. It is frozen: it keeps the rule as it was when
 * it was released (relayRefusalOf that day, now in src/mail/smtp-replies.ts), whatever the live rule becomes, so a
 * database migrated later gets what one migrated that day got. The live rule's own tests are
 * test/mail/transport.unit.test.ts.
 */
describe("migration 020's frozen reading of a refusal to relay", () => {
  it.each([
    ["554 5.7.1 <a@elsewhere.example>: Relay access denied", true],
    ["550 Relaying denied", true],
    ["550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain", true],
    ["550 Unable to relay for a@elsewhere.example", true],
    ["554 5.7.1 <a@elsewhere.example>: Client host rejected: Access denied", true],
    ["535 5.7.8 Invalid credentials for relay", true],
  ])("%s: relaying", (reply, relaying) => {
    expect(refusedRelaying(rejected(reply))).toBe(relaying);
  });

  it.each([
    // A policy, the address's own fault, a login, a transient or retried reply: not relaying.
    ["550 5.7.1 Delivery not authorized, message refused", "a policy"],
    ["553 5.7.1 <a@elsewhere.example>: Sender address rejected: not owned by user", "words about a user too"],
    ["550 5.1.1 <a@elsewhere.example>: Recipient address rejected: relay table says User unknown", "the address refused (5.1.1)"],
    ["530 5.7.0 Authentication required to relay", "FAMOS's login (530)"],
    ["450 4.7.1 Relay access denied, try later", "a 4yz reply"],
    ["550 5.2.2 Mailbox full, not permitted to relay", "retried despite its 5yz (5.2.2)"],
    ["552 Too many recipients, relay limit", "retried despite its 5yz (552 at RCPT TO)"],
  ])("%s: not relaying (%s)", (reply) => {
    expect(refusedRelaying(rejected(reply))).toBe(false);
  });

  it("reads only nodemailer's words for a refusal of every recipient", () => {
    expect(refusedRelaying("Mail command failed: 550 5.7.0 Mail relay denied")).toBe(false);
    expect(refusedRelaying("Relay access denied")).toBe(false);
  });

  it("takes nothing from the live code: a later change to the rule cannot change what it does", () => {
    const source = readFileSync(new URL("../../src/store/migrations/020-mail-faults.ts", import.meta.url), "utf8");
    expect([...source.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1])).toEqual(["kysely"]);
  });
});
