import de from "./messages/de.json" with { type: "json" };
import enGB from "./messages/en-GB.json" with { type: "json" };
import es from "./messages/es.json" with { type: "json" };
import fr from "./messages/fr.json" with { type: "json" };
import it from "./messages/it.json" with { type: "json" };
import nl from "./messages/nl.json" with { type: "json" };
import type { Locale } from "./locales.ts";

/** Every key of the English source catalogue; the other languages have exactly these. */
export type MessageKey = keyof typeof enGB;
export type Catalogue = Partial<Record<MessageKey, string>>;

/**
 * The catalogues, one flat JSON file per language (src/i18n/messages/<locale>.json). A key missing
 * from a translation falls back to English at run time, and fails test/i18n/catalogue.test.ts.
 */
export const CATALOGUES: Record<Locale, Catalogue & Record<string, string>> = { "en-GB": enGB, de, fr, it, es, nl };
