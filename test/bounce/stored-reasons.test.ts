import { describe, expect, it } from "vitest";
import { reasonText } from "../../src/bounce/reason-text.ts";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { useCliApp } from "../cli/run-famos.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";

/**
 * Bounce reasons stored before reasonText showed hidden characters (rows kept from before it) and the
 * relay's own words in `last_error`, which are stored as the relay said them, may hold U+202E and other
 * invisible format characters: where support reads them (the user page's Mails and Delivery, `famos user
 * show`, its --json too) each is shown as U+FFFD (showHiddenCharacters), so FAMOS's own words after them
 * read in order (Trojan Source). Real HTTP (app.inject), a SQLite file, `famos user show` through main().
 */
describe("stored relay and bounce words, shown to support", () => {
  const f = useCliApp();
  const RLO = "\u202e";

  it("are shown with their hidden characters as U+FFFD on the support user page and in famos user show", async () => {
    const { t, cli } = f;
    const email = "old.rows@dealer.example";
    const user = await addUser(t.deps, { loginId: "old.rows", email });
    const now = t.clock.now();
    await t.deps.db
      .insertInto("mail_addresses")
      .values({ address_key: email, undeliverable_at: now, undeliverable_reason: `550 5.1.1 gone${RLO} reset to evil`, soft_bounces: 1, last_soft_bounce_at: now, last_soft_reason: `452 full${RLO}\u200b later`, mailbox_soft_since: null, confirmed_at: null, updated_at: now })
      .execute();
    const bounced = await enqueueMail(t.deps.db, now, cryptoRandom, t.deps.mailDomain, { userId: user.id, kind: "notice.lock", recipient: email, subject: "s", text: "t", html: "<p>h</p>" });
    await t.deps.db.updateTable("outbox").set({ state: "sent", sent_at: now, bounced_at: now, bounce_kind: "hard", bounce_reason: `550 5.1.1 bounced${RLO} evil` }).where("id", "=", bounced).execute();
    const waiting = await enqueueMail(t.deps.db, now, cryptoRandom, t.deps.mailDomain, { userId: user.id, kind: "notice.lock", recipient: email, subject: "s", text: "t", html: "<p>h</p>" });
    await t.deps.db.updateTable("outbox").set({ attempts: 1, last_error: `451 relay says${RLO} try later` }).where("id", "=", waiting).execute();

    const admin = await addUser(t.deps, { role: "support", email: "support.rows@famos.test" });
    const support = new FormClient(t.app, "10.9.0.2");
    await signInFully(support, t.smtp, admin);
    const page = (await support.get(`/support/users/${user.id}`)).body;
    const shown = await cli.inProcess(["user", "show", "old.rows"]);
    const json = await cli.inProcess(["user", "show", "old.rows", "--json"]);
    expect(page).toContain("reset to evil");
    expect(page).toContain("relay says\ufffd try later");
    expect(page).toContain("bounced\ufffd evil");
    expect(shown.stdout).toContain("gone\ufffd reset to evil");
    expect(json.stdout).toContain("gone\ufffd reset to evil");
    for (const [what, text] of [["page", page], ["user show", shown.stdout], ["user show --json", json.stdout]] as const) {
      expect([what, /[\p{Cf}]/u.test(text)]).toEqual([what, false]);
    }
  });

  it("reasonText keeps at most 300 characters without splitting a character outside the BMP in two", () => {
    const kept = reasonText(`${"x".repeat(299)}😀 more`);
    expect(kept).toBe(`${"x".repeat(299)}😀`);
    expect(reasonText("😀".repeat(400))).toBe("😀".repeat(300));
  });
});
