import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";

const RLO = "\u202e";
const ZWSP = "\u200b";

/**
 * A notice stored before its body refused invisible and direction-changing characters (the title's
 * rule, hasInvisibleCharacters, came to the body later): a U+202E in it reversed the text after it for
 * every member of staff on the banner and the notice's page, and for support on the console. Written
 * straight into the table, as such a row is; every page shows it through showHiddenCharacters, each
 * hidden character a visible U+FFFD, its line breaks (paragraphs) kept.
 */
describe.each(["sqlite", "postgres"] as const)("a notice stored with hidden characters (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  it("is shown with each hidden character as U+FFFD on the banner, its page and the console", async () => {
    const id = `legacy-${database}`;
    await t.deps.db
      .insertInto("notices")
      .values({
        id,
        title: `Application Issue ${RLO}0202 555 0100`,
        body: `Call ${RLO}0202 555 0100${ZWSP} now.\n\nThe ⚠️ second paragraph.`,
        created_at: t.clock.now(),
        updated_at: null,
        ended_at: null,
        created_by: "legacy",
      })
      .execute();
    const { client: reader } = await signIn(t);
    const { client: support } = await signIn(t, { role: "support" });
    const pages = [await reader.get("/"), await reader.get(`/notices/${id}`), await support.get("/support/notices"), await support.get(`/support/notices/${id}`)];
    for (const page of pages) {
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain(RLO);
      expect(page.body).not.toContain(ZWSP);
      expect(page.body).toContain("Application Issue \ufffd0202 555 0100");
    }
    for (const page of [pages[1]!, pages[3]!]) {
      expect(page.body).toContain("<p>Call \ufffd0202 555 0100\ufffd now.</p>");
      // A selector after a pictograph is what an iPhone types, not hidden: kept, as the rule keeps it.
      expect(page.body).toContain("<p>The ⚠️ second paragraph.</p>");
    }
  });
});
