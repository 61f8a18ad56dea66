import { describe, expect, it } from "vitest";
import { BARE_ADDRESS } from "../../src/mail/smtp-replies.ts";

/**
 * BARE_ADDRESS (src/mail/smtp-replies.ts) does bounded work on any reply: a match begins only where a run of
 * address characters begins. Without that, each of a run's n positions began a scan to the run's end, n²/2
 * steps on a long run without "@" (64 KB: seconds; nodemailer takes replies up to 1 MiB). The property is
 * asserted, not a time: tried sticky at each offset, the pattern takes nothing from inside a run.
 */
describe("BARE_ADDRESS begins only where a run begins", () => {
  const at = (text: string, offset: number) => {
    const sticky = new RegExp(BARE_ADDRESS.source, "uy");
    sticky.lastIndex = offset;
    return sticky.exec(text)?.[0] ?? null;
  };

  it("inside an address's local part, or a run without '@', no match begins", () => {
    const reply = "550 jane.doe+famos@dealer.example... User unknown; " + "a".repeat(64) + " x";
    const start = reply.indexOf("jane");
    expect(at(reply, start)).toBe("jane.doe+famos@dealer.example");
    for (let offset = start + 1; offset < reply.indexOf("@"); offset += 1) expect(at(reply, offset), `offset ${offset}`).toBeNull();
    const run = reply.indexOf("a".repeat(64));
    for (let offset = run; offset < run + 64; offset += 1) expect(at(reply, offset), `offset ${offset}`).toBeNull();
  });

  it("still takes every bare address, glued to punctuation or not", () => {
    const reply = "554 relay-desk@dealer.example: a.b+c@d.e.f mailto:postmaster@dealer.example; (helo@x.example)";
    expect(reply.match(BARE_ADDRESS)).toEqual(["relay-desk@dealer.example", "a.b+c@d.e.f", "postmaster@dealer.example", "helo@x.example"]);
  });
});
