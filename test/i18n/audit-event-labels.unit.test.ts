import { describe, expect, it } from "vitest";
import { AUDIT_EVENTS } from "../../src/audit/events.ts";
import { CATALOGUES } from "../../src/i18n/catalogues.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { eventLabel } from "../../src/web/pages/support-user-pages.ts";

/**
 * The console's audit pages label each event in the reader's language: eventLabel finds the
 * catalogue's "said.event.*" message by the event's English in AUDIT_EVENTS. The catalogues' parity
 * test (catalogue.test) compares the six catalogues with each other and the console's leak detector
 * (console-language.test) looks for English of the catalogues' own keys: neither sees an event that
 * has no key at all, which is how the console.* events stayed English in every language. Here the
 * list of events is the source: every one has its key, with AUDIT_EVENTS' words in en-GB and its own
 * in the other five, and no key names an event that is not written.
 */
describe("audit event labels in the six catalogues", () => {
  const events = Object.entries(AUDIT_EVENTS);

  for (const locale of LOCALES) {
    it(`${locale}: every audit event has its "said.event.*" label`, () => {
      const catalogue = CATALOGUES[locale] as Record<string, string>;
      const missing = events.filter(([name]) => !catalogue[`said.event.${name}`]).map(([name]) => name);
      expect(missing).toEqual([]);
    });
  }

  it("en-GB's labels are AUDIT_EVENTS' words, and no label names an event FAMOS does not write", () => {
    const english = CATALOGUES["en-GB"] as Record<string, string>;
    for (const [name, words] of events) expect(english[`said.event.${name}`], name).toBe(words);
    const labelled = Object.keys(english).filter((key) => key.startsWith("said.event.")).map((key) => key.slice("said.event.".length));
    expect(labelled.filter((name) => !Object.hasOwn(AUDIT_EVENTS, name))).toEqual([]);
  });

  // One event, two meanings (account/disable.ts): a disable that ended sessions and codes, and a person's
  // keep of a sync's disable that ended nothing (detail.kept); its one label says both, in every language.
  it("user.disabled's label covers a keep as well as a disable", () => {
    const kept: Record<string, string> = { "en-GB": "kept disabled", de: "deaktiviert belassen", fr: "maintenu désactivé", it: "mantenuto disattivato", es: "mantenida desactivada", nl: "gedeactiveerd gehouden" };
    for (const locale of LOCALES) expect(eventLabel(translator(locale, "Europe/Berlin"), "user.disabled"), locale).toContain(kept[locale]);
  });

  for (const locale of LOCALES.filter((l) => l !== "en-GB")) {
    it(`${locale}: the audit page shows every event in the language, not in English`, () => {
      const t = translator(locale, "Europe/Berlin");
      const english = events.filter(([name, words]) => eventLabel(t, name) === words).map(([name]) => name);
      expect(english).toEqual([]);
    });
  }
});
