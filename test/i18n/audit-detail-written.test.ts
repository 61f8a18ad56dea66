import { describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { detailText } from "../../src/web/pages/audit-detail.ts";
import { writtenAuditDetails } from "../support/audit-details-written.ts";

/**
 * Every detail field src writes into an audit record, and every value of FAMOS's own among them, has
 * its words in each catalogue: the console read "from: support, to: admin", "partner: …", "deviceType:
 * multiDevice" on German pages once the frequent ones were done. The list is read from src by the type
 * checker (test/support/audit-details-written.ts), so a field added tomorrow is in it.
 */
const written = writtenAuditDetails(new URL("../..", import.meta.url).pathname.replace(/\/$/, ""));

/** Fields typed `string` whose values are words from outside or names, shown as stored: an address, a ticket, a relay's reason, a passkey's name, a route. */
const AS_WRITTEN = new Set(["typed", "name", "why", "ticket", "to", "from", "previousEmail", "pendingEmail", "forwardedTo", "status", "session", "credential", "title", "notice", "user", "event", "since", "until", "startsAt", "line", "address", "action", "changed", "reason"]);

/** Fields typed `string` whose values are FAMOS's own all the same (the type does not say them): a lock's scope, an outbox kind, the default partner. */
const OWN_VALUES: Record<string, string[]> = {
  scope: ["login-id", "device", "address", "login-id-until-unlocked", "device-until-unlocked"],
  mail: [
    "code.signin",
    "code.enrol",
    "code.email-change",
    "code.password-reset",
    "lock",
    "notice.code-reused",
    "notice.email-changed",
    "notice.email-reset",
    "notice.factor-changed",
    "notice.factors-removed",
    "notice.password-changed",
    "notice.password-reset",
    "notice.recovery-code-used",
    "notice.temporary-password",
    "rollout.announcement",
  ],
  partner: ["default"],
};

/** Words a language takes from English as they are (audit-detail-words.unit.test.ts checks the same). */
const SAME_IN: Record<string, string[]> = { it: ["password", "passkey"], nl: ["passkey", "passkeys"] };

/** `why` holds the WebAuthn library's English message; FAMOS's one sentence in its place is written beside those, and shown as they are. */
const LIBRARY_WORDS = new Set(["why"]);

const english = translator("en-GB", "Europe/London");
const pair = (t: ReturnType<typeof translator>, event: string | undefined, key: string, value: unknown) => detailText(t, { [key]: value }, event).split(/\s?: /);

describe("every audit detail src writes has its words in every catalogue", () => {
  it("finds the detail fields of the events src writes (the reader is not blind)", () => {
    const keys = new Set(written.map((d) => d.key));
    for (const key of ["purpose", "kind", "scope", "role", "partner", "startsAt", "deviceType", "mail", "with", "typed"]) expect(keys, key).toContain(key);
    expect(written.find((d) => d.event === "role.changed" && d.key === "to")?.values).toEqual(["user", "support", "admin"]);
  });

  it("a field typed as any string is either shown as written or has its own values listed here", () => {
    const unsorted = written.filter((d) => d.text && !AS_WRITTEN.has(d.key) && !(d.key in OWN_VALUES));
    expect(unsorted.map((d) => `${d.where} ${d.key}`)).toEqual([]);
  });

  for (const locale of LOCALES.filter((l) => l !== "en-GB")) {
    it(`${locale}: every written key and every value of FAMOS's own is in the reader's language`, () => {
      const t = translator(locale, "Europe/Berlin");
      const missing: string[] = [];
      for (const { event, key, values, where } of written) {
        const same = SAME_IN[locale] ?? [];
        if (pair(t, event, key, 1)[0] === key && !same.includes(key)) missing.push(`${where} key ${key}`);
        const own = (event?.startsWith("mail.") && key === "reason") || LIBRARY_WORDS.has(key) ? [] : [...values, ...(OWN_VALUES[key] ?? [])];
        for (const value of own) {
          if (same.includes(value)) continue;
          if (pair(t, event, key, value)[1] === pair(english, event, key, value)[1]) missing.push(`${where} ${key}=${value}`);
        }
      }
      expect([...new Set(missing)]).toEqual([]);
    });
  }
});

