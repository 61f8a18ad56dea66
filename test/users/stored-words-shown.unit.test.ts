import { describe, expect, it } from "vitest";
import { maskEmailsIn } from "../../src/platform/mask-emails.ts";
import { storedWordsShown } from "../../src/users/fields.ts";

/**
 * storedWordsShown (src/users/fields.ts): a forward's undeliverable reason ("→ mailbox: the relay's words")
 * as support reads it. Rows written before forwardBounceSet used maskMailbox hold the forward's display name
 * ("→ Jane Doe <j•••@x.example>: …", maskEmailsIn only): read, the mailbox is shown by the maskMailbox rule,
 * no migration.
 */
describe("storedWordsShown, a forward's undeliverable reason", () => {
  const legacy = (forwardedTo: string, reason: string) => `→ ${maskEmailsIn(forwardedTo)}: ${maskEmailsIn(reason)}`;

  it.each([
    [legacy("Jane Private-Doe <jane@x.example>", "550 5.1.1 user unknown"), "→ j•••@x.example: 550 5.1.1 user unknown", "Jane"],
    [legacy("\"Doe: Jane\" <jane@x.example>", "550 <jane@x.example>: user unknown"), "→ j•••@x.example: 550 <j•••@x.example>: user unknown", "Jane"],
    [legacy("jane@x.example (Jane Private)", "550 user unknown"), "→ j•••@x.example: 550 user unknown", "Private"],
    [legacy("Jane Private", "550 user unknown"), "→ •••: 550 user unknown", "Jane"],
  ])("%s", (stored, shown, hidden) => {
    expect(storedWordsShown(stored)).toBe(shown);
    expect(storedWordsShown(stored)).not.toContain(hidden);
  });

  it("shows today's rows (the mailbox already by maskMailbox) as they are stored", () => {
    const today = "→ j•••@x.example: 550 5.1.1 <j•••@x.example>: user unknown";
    expect(storedWordsShown(today)).toBe(today);
  });

  it("leaves a relay's words that are no forward's as maskEmailsIn shows them", () => {
    expect(storedWordsShown("550 Jane Doe <jane@x.example>: user unknown")).toBe("550 Jane Doe <j•••@x.example>: user unknown");
  });
});
