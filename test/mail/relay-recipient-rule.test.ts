import { describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { relayRefusals } from "../support/relay-refusals.ts";

/**
 * Exchange and Exchange Online refuse at RCPT TO a recipient whose owner lets only some senders write to it
 * (a dealership's distribution group for authenticated senders only, the default of a new group; a mailbox or
 * group with an allowed-senders list): "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication
 * required; …". That is this recipient's own rule, not the relay refusing FAMOS: the message fails for good,
 * as a recipient's policy refusal does, other staff members' mail goes on, and however many such groups refuse
 * in a row the relay is never paused nor the operator told it refuses FAMOS. The address is not marked
 * undeliverable (it exists; its owner's setting refuses FAMOS). Before, the "authentication" words made it
 * "relaying": the message waited and two such groups paused everyone's mail. Real smtp-server, SQLite.
 */
describe("an Exchange recipient's own rule of who may send to it, at RCPT TO", () => {
  const relay = relayRefusals((t) => t.smtp.rejectPermanently(false));
  const { announce, states, warnings } = relay;

  it.each([
    [550, "5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed because the sender was not authenticated when sending to this group"],
    [550, "5.7.1 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed because the sender was not authenticated when sending to this group"],
    [550, "5.7.1 RESOLVER.RST.AuthRequired; authentication required"],
    [550, "5.7.1 RESOLVER.RST.NotAuthorized; not authorized"],
    [550, "5.7.1 RESOLVER.RST.NotAuthorizedToGroup; not authorized to send to the distribution list"],
  ])("%d %s: each such group's message fails alone, the rest go, nothing is paused", async (code, words) => {
    const n = `${code}${words.length}`;
    const groups = [`sales${n}`, `service${n}`, `parts${n}`];
    relay.t.smtp.rejectPermanently(true, code, words, groups.map((g) => `${g}@dealer.example`));
    await announce([...groups, `jane${n}`]);
    await relay.t.services.sender.drain();
    expect(await states([...groups, `jane${n}`])).toEqual(["failed", "failed", "failed", "sent"]);
    expect(warnings().filter((r) => /relay/.test(r.msg))).toEqual([]);
    const faults = await relay.t.deps.db.selectFrom("outbox").select("last_fault").where("recipient", "in", groups.map((g) => `${g}@dealer.example`)).execute();
    expect(faults.map((f) => f.last_fault)).toEqual([null, null, null]);
    for (const group of groups) expect(await addressProblems(relay.t.deps.db, `${group}@dealer.example`)).toBeNull();
  });
});
