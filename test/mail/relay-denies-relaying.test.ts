import { describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";
import { relayRefusals } from "../support/relay-refusals.ts";

/**
 * A relay that will not relay for FAMOS refuses every recipient at RCPT TO ("550 5.7.1 Relaying
 * denied", Postfix's "554 5.7.1 Relay access denied", "Client host rejected", "Sender address
 * rejected"): no message is at fault, so none is failed for it; the sender pauses as for a relay that
 * refuses FAMOS's login (src/mail/relay-pause.ts), and a rollout's announcements wait for the fix. A
 * 5.7.1 in other words ("Delivery not authorized, message refused") may be one recipient's domain
 * policy: the message it refused fails alone, and only the same refusal for a different recipient next
 * makes it the relay's. Real smtp-server, SQLite, the injected clock.
 */
describe("a relay that refuses to relay for FAMOS at RCPT TO", () => {
  const relay = relayRefusals((t) => t.smtp.rejectPermanently(false));
  const { announce, stateOf, states, warnings } = relay;

  it.each([
    [550, "5.7.1 Relaying denied"],
    [554, "5.7.1 <x@dealer.example>: Relay access denied"],
    [554, "5.7.1 <famos.example[192.0.2.7]>: Client host rejected: Access denied"],
    [553, "5.7.1 <no-reply@famos.test>: Sender address rejected: Domain not allowed"],
    [550, "Relaying denied"],
  ])("%d %s: every message stays queued, the refusal is logged once, and all go once the relay relays", async (code, words) => {
    const wave = [0, 1, 2].map((i) => `wave${code}${words.length}n${i}`);
    relay.t.smtp.rejectPermanently(true, code, words);
    await announce(wave);
    await relay.t.services.sender.drain();
    expect(await states(wave)).toEqual(["queued", "queued", "queued"]);
    expect(warnings()).toEqual([expect.objectContaining({ msg: expect.stringMatching(/the mail relay refuses FAMOS/), err: expect.stringContaining(words) })]);
    // What to check names relaying: the relay's permission to relay for FAMOS (relay-pause.ts RELAY_CHECKS).
    expect(warnings()[0]?.msg).toContain("that the relay lets FAMOS relay mail to other domains");
    for (const name of wave) expect(await addressProblems(relay.t.deps.db, `${name}@dealer.example`)).toBeNull();

    relay.t.smtp.rejectPermanently(false);
    relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(1));
    await relay.t.services.sender.drain();
    expect(await states(wave)).toEqual(["sent", "sent", "sent"]);
  });

  it("a relay that relays for FAMOS to every domain but one (Postfix's reject_unauth_destination for the one staff address outside its domains): that message waits, the rest are neither paused nor told the relay refuses FAMOS, at any of its tries", async () => {
    relay.t.smtp.rejectPermanently(true, 554, "5.7.1 <abroad@dealer.example>: Relay access denied", ["abroad@dealer.example"]);
    await announce(["abroad"]);
    await relay.t.services.sender.drain();
    expect(await stateOf("abroad")).toBe("queued");
    for (const name of ["home-a", "home-b", "home-c"]) {
      // The next message, to a domain the relay takes, goes at once: nothing paused for the one refused.
      await announce([name]);
      await relay.t.services.sender.drain();
      expect([name, await stateOf(name)]).toEqual([name, "sent"]);
      // The refused message's next try, alone: the relay took FAMOS's mail just before.
      relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(20));
      await relay.t.services.sender.drain();
      expect(await stateOf("abroad")).toBe("queued");
    }
    expect(warnings().filter((r) => /relay/.test(r.msg))).toEqual([]);
    expect(await addressProblems(relay.t.deps.db, "abroad@dealer.example")).toBeNull();
    // Relaying allowed for it (the operator's fix): it goes.
    relay.t.smtp.rejectPermanently(false);
    relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(20));
    await relay.t.services.sender.drain();
    expect(await stateOf("abroad")).toBe("sent");
  });

  it("two staff addresses outside the relay's domains, refused together at every try (their retries keep step): the relay took the others' mail between, so neither pauses it nor says it refuses FAMOS after the first time", async () => {
    const abroad = ["abroad-x", "abroad-y"];
    relay.t.smtp.rejectPermanently(true, 554, "5.7.1 Relay access denied", abroad.map((name) => `${name}@dealer.example`));
    await announce(abroad);
    await relay.t.services.sender.drain();
    // Refused one after the other with nothing taken between: as a relay refusing everyone, once; the
    // pause lasts while its tries are theirs, and ends when another's message is taken.
    expect(warnings().filter((r) => /relay/.test(r.msg))).toHaveLength(1);
    await announce(["home-x0"]);
    for (let i = 0; i < 4 && (await stateOf("home-x0")) !== "sent"; i += 1) {
      relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(20));
      await relay.t.services.sender.drain();
    }
    expect(await stateOf("home-x0")).toBe("sent");
    for (const name of ["home-x1", "home-x2", "home-x3"]) {
      relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(20));
      await announce([name]);
      await relay.t.services.sender.drain();
      expect([name, await stateOf(name), ...(await states(abroad))]).toEqual([name, "sent", "queued", "queued"]);
    }
    expect(warnings().filter((r) => /relay/.test(r.msg))).toHaveLength(1);
    // A relay that then refuses everyone is still told apart: refusals of two other recipients in a row pause it.
    relay.t.smtp.rejectPermanently(true, 554, "5.7.1 Relay access denied");
    const wave = ["later-a", "later-b", "later-c"];
    relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(20));
    await announce(wave);
    await relay.t.services.sender.drain();
    expect(await states(wave)).toEqual(["queued", "queued", "queued"]);
    expect(warnings().filter((r) => /relay/.test(r.msg))).toHaveLength(2);
    relay.t.smtp.rejectPermanently(false);
    relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(20));
    await relay.t.services.sender.drain();
    expect(await states([...abroad, ...wave])).toEqual(["sent", "sent", "sent", "sent", "sent"]);
  });

  it("a 5.7.1 that one recipient's domain policy gives fails that message alone, without pausing the rest or blaming the address", async () => {
    const wave = ["policy-a", "policy-b", "policy-c"];
    relay.t.smtp.rejectPermanently(true, 550, "5.7.1 Delivery not authorized, message refused", ["policy-b@dealer.example"]);
    await announce(wave);
    await relay.t.services.sender.drain();
    expect(await states(wave)).toEqual(["sent", "failed", "sent"]);
    expect(warnings().filter((r) => /relay/.test(r.msg))).toEqual([]);
    expect(await addressProblems(relay.t.deps.db, "policy-b@dealer.example")).toBeNull();
  });

  it("the same 5.7.1 for a different recipient next is the relay's: the first message fails, the rest wait and go once it is fixed", async () => {
    const wave = ["every-a", "every-b", "every-c", "every-d"];
    relay.t.smtp.rejectPermanently(true, 550, "5.7.1 Delivery not authorized, message refused");
    await announce(wave.slice(0, 1));
    await relay.t.services.sender.drain();
    expect(await stateOf("every-a")).toBe("failed");
    await announce(wave.slice(1));
    await relay.t.services.sender.drain();
    expect(await states(wave)).toEqual(["failed", "queued", "queued", "queued"]);
    expect(warnings().filter((r) => /relay/.test(r.msg))).toEqual([expect.objectContaining({ msg: expect.stringMatching(/the mail relay refuses FAMOS/) })]);

    relay.t.smtp.rejectPermanently(false);
    relay.t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(1));
    await relay.t.services.sender.drain();
    expect(await states(wave)).toEqual(["failed", "sent", "sent", "sent"]);
  });
});
