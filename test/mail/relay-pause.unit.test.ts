import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RelayPause } from "../../src/mail/relay-pause.ts";
import { MailDeliveryError } from "../../src/mail/transport.ts";

/**
 * The sender's one rule for a relay that cannot be reached (src/mail/relay-pause.ts), on its own: how
 * many messages the drains may claim, how long a pause lasts, and what ends it. The sender's tests
 * (sender.unit, relay-trouble) hold it to the same rule with a real SMTP server.
 */
const BATCH = 8;
const backoffMs = (attempt: number) => Math.min(60_000, 2000 * 2 ** (attempt - 1));
const unreachable = () => new MailDeliveryError("connect ECONNREFUSED", false, null, "unreachable");
const answered = () => new MailDeliveryError("450 mailbox busy", false);
const refused = () => new MailDeliveryError("Invalid login: 535 5.7.8 Authentication failed", false, null, "refused");
/** A 5yz at RCPT TO that may be one recipient's domain policy or the relay's (transport.ts: refusedByPolicy). */
const policy = () => new MailDeliveryError("550 5.7.1 Delivery not authorized, message refused", true, null, null, true);

function pause() {
  const said: string[] = [];
  let back = 0;
  const logger = { warn: (_: unknown, text: string) => said.push(`warn: ${text}`), info: (text: string) => said.push(`info: ${text}`) };
  const relay = new RelayPause(backoffMs, logger, () => (back += 1));
  return { relay, said, backs: () => back };
}

describe("the relay pause", () => {
  it("gives the pool's free connections while the relay answers", () => {
    const { relay } = pause();
    expect(relay.room(BATCH, 0, 0)).toBe(BATCH);
    expect(relay.room(BATCH, 3, 0)).toBe(BATCH - 3);
    relay.failed(answered(), 0);
    expect(relay.room(BATCH, 0, 0)).toBe(BATCH);
  });

  it("after an unreachable relay: nothing until the retry ladder's delay, then one message alone; each outage found doubles the wait", () => {
    const { relay, said } = pause();
    relay.failed(unreachable(), 1000);
    expect(relay.room(BATCH, 0, 2999)).toBe(0);
    expect(relay.room(BATCH, 0, 3000)).toBe(1);
    expect(relay.room(BATCH, 1, 3000)).toBe(0);
    // Failures while paused (the rest of a batch in flight) do not lengthen it.
    relay.failed(unreachable(), 2000);
    expect(relay.room(BATCH, 0, 3000)).toBe(1);
    relay.failed(unreachable(), 3000);
    expect(relay.room(BATCH, 0, 6999)).toBe(0);
    expect(relay.room(BATCH, 0, 7000)).toBe(1);
    expect(said).toEqual(["warn: the mail relay cannot be reached: mail waits, one message tries it at a time"]);
  });

  it("ends at the relay's first answer (a send, or a refusal of one message), and says so once", () => {
    const { relay, said, backs } = pause();
    relay.answered();
    expect(backs()).toBe(0);
    relay.failed(unreachable(), 0);
    relay.failed(answered(), 500);
    expect(relay.room(BATCH, 0, 500)).toBe(BATCH);
    expect(backs()).toBe(1);
    relay.failed(unreachable(), 600);
    relay.answered();
    relay.answered();
    expect(backs()).toBe(2);
    expect(said.filter((line) => line.startsWith("info"))).toEqual(["info: the mail relay can be reached again", "info: the mail relay can be reached again"]);
    // A new outage starts the ladder again from its first rung.
    relay.failed(unreachable(), 10_000);
    expect(relay.room(BATCH, 0, 12_000)).toBe(1);
  });

  it("a failure of unknown kind says nothing of the relay: no pause starts, and one in force goes on", () => {
    const { relay } = pause();
    relay.failed(new Error("database gone"), 0);
    expect(relay.room(BATCH, 0, 0)).toBe(BATCH);
    relay.failed(unreachable(), 0);
    relay.failed(new Error("database gone"), 1000);
    expect(relay.room(BATCH, 0, 1999)).toBe(0);
    // Past its end, an unknown failure of the one message trying counts as the relay still down.
    relay.failed(new Error("database gone"), 2000);
    expect(relay.room(BATCH, 0, 5999)).toBe(0);
    expect(relay.room(BATCH, 0, 6000)).toBe(1);
  });

  it("a relay that refuses FAMOS (its login, a 5yz greeting) pauses alike, is told once in its own words, again when the kind changes, and its end says the relay takes the mail again", () => {
    const { relay, said } = pause();
    relay.failed(refused(), 0);
    expect(relay.room(BATCH, 0, 1999)).toBe(0);
    relay.failed(refused(), 2000);
    relay.failed(refused(), 6000);
    expect(said).toEqual([expect.stringMatching(/^warn: the mail relay refuses FAMOS \(check the user name and password in FAMOS_SMTP_URL/)]);
    // Up again but now unreachable (the relay restarting), then refusing once more: each change is told.
    relay.failed(unreachable(), 14_000);
    relay.failed(refused(), 30_000);
    expect(said.slice(1)).toEqual(["warn: the mail relay cannot be reached: mail waits, one message tries it at a time", expect.stringMatching(/^warn: the mail relay refuses FAMOS/)]);
    relay.answered();
    expect(said.at(-1)).toBe("info: the mail relay takes FAMOS's mail again");
  });

  it("the warning for a relay that refuses FAMOS names relaying among what to check (a relay that relays for nobody refuses every recipient at RCPT TO), and is the line the README quotes", () => {
    const { relay, said } = pause();
    const denied = (to: string) => new MailDeliveryError(`Can't send mail - all recipients were rejected: 554 5.7.1 <${to}>: Relay access denied`, false, null, "refused", true, "relaying");
    // One recipient refused may be that address alone; another next is the relay refusing everyone.
    relay.failed(denied("a@dealer.example"), 0, "a@dealer.example");
    relay.failed(denied("b@dealer.example"), 100, "b@dealer.example");
    expect(said).toHaveLength(1);
    const line = said[0]!.replace(/^warn: /, "");
    expect(line).toContain("that the relay lets FAMOS relay mail to other domains");
    // README "A relay that cannot be reached" quotes it up to what follows its checks ("…").
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8").replace(/\s+/g, " ");
    const quoted = line.slice(0, line.indexOf(": mail waits"));
    expect(readme).toContain(`"${quoted} …"`);
  });

  it("with no TLS the warning says so and to keep requireTLS, never that the relay cannot be reached, says it again when TLS works, and is the line the README quotes", () => {
    const { relay, said } = pause();
    relay.failed(new MailDeliveryError("Error upgrading connection with STARTTLS: 500 5.5.2 Error: command not recognized", false, null, "tls", false, "unreachable"), 0);
    relay.answered();
    expect(said).toEqual([
      "warn: no TLS with the mail relay (its certificate or STARTTLS; possibly someone on the path): check the relay's certificate and FAMOS_SMTP_URL's host; do not drop requireTLS: mail waits, one message tries it at a time",
      "info: TLS with the mail relay works again",
    ]);
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8").replace(/\s+/g, " ");
    const line = said[0]!.replace(/^warn: /, "");
    expect(readme).toContain(`\`${line.slice(0, line.indexOf(": mail waits"))}\``);
  });

  it("the warning carries the relay's own reply, for the operator to read in the log beside what to check", () => {
    const details: object[] = [];
    const relay = new RelayPause(backoffMs, { warn: (detail) => details.push(detail), info: () => undefined }, () => undefined);
    relay.failed(new MailDeliveryError("Can't send mail - all recipients were rejected: 554 5.7.1 <dealer@dealer.example>: Relay access denied", false, null, "refused"), 0);
    relay.failed(new Error("not the transport's"), 5000);
    expect(details).toEqual([{ err: "Can't send mail - all recipients were rejected: 554 5.7.1 <dealer@dealer.example>: Relay access denied" }]);
  });

  it("a policy refusal at RCPT TO is the relay's only when it repeats for a different recipient with no other answer between; then it pauses as a refusal", () => {
    const { relay, said } = pause();
    // One recipient, even refused twice: that mailbox's domain policy; nothing pauses.
    expect(relay.failed(policy(), 0, "a@dealer.example")).toBe(false);
    expect(relay.failed(policy(), 100, "A@dealer.example")).toBe(false);
    expect(relay.room(BATCH, 0, 100)).toBe(BATCH);
    // Another recipient next: every recipient is refused, the relay's fault.
    expect(relay.failed(policy(), 200, "b@dealer.example")).toBe(true);
    expect(relay.room(BATCH, 0, 200)).toBe(0);
    expect(said).toEqual([expect.stringMatching(/^warn: the mail relay refuses FAMOS/)]);
    // While it lasts, the same refusal of any message (the one trying, the rest of a batch) is the relay's.
    expect(relay.failed(policy(), 300, "b@dealer.example")).toBe(true);
    expect(relay.failed(policy(), 2200, "c@dealer.example")).toBe(true);
    expect(relay.room(BATCH, 0, 6199)).toBe(0);
    relay.answered();
    expect(relay.room(BATCH, 0, 6200)).toBe(BATCH);
    // An answer between two refusals (a message sent, another reply) means they do not repeat.
    expect(relay.failed(policy(), 7000, "d@dealer.example")).toBe(false);
    relay.answered();
    expect(relay.failed(policy(), 7100, "e@dealer.example")).toBe(false);
    expect(relay.failed(new MailDeliveryError("451 4.7.1 greylisted", false), 7200)).toBe(false);
    expect(relay.failed(policy(), 7300, "f@dealer.example")).toBe(false);
    expect(relay.room(BATCH, 0, 7300)).toBe(BATCH);
    // The relay's own faults say so too; an unknown failure does not.
    expect(relay.failed(unreachable(), 8000)).toBe(true);
    expect(relay.failed(new Error("database gone"), 8100)).toBe(true);
  });
  it("recipients refused at RCPT TO before the relay took another's message are refused alone: their refusals repeat nothing, until their own message is taken", () => {
    const { relay } = pause();
    expect(relay.failed(policy(), 0, "x@other.example")).toBe(false);
    expect(relay.failed(policy(), 10, "y@other.example")).toBe(true);
    relay.answered("home@dealer.example");
    // Retried in step, with nothing taken between: each is its own, nothing pauses.
    expect(relay.failed(policy(), 5000, "x@other.example")).toBe(false);
    expect(relay.failed(policy(), 5010, "Y@other.example")).toBe(false);
    expect(relay.room(BATCH, 0, 5010)).toBe(BATCH);
    // x's own message taken (relaying to it allowed now): its refusal counts again.
    relay.answered("X@other.example");
    expect(relay.failed(policy(), 6000, "z@dealer.example")).toBe(false);
    expect(relay.failed(policy(), 6010, "x@other.example")).toBe(true);
  });
});
