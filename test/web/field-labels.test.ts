import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { FormClient } from "../support/client.ts";

/** The page's reason, its markup and entities read as text. */
const reason = (body: string) =>
  (body.match(/<div class="message error" role="alert">([\s\S]*?)<\/div>/)?.[1] ?? "").replace(/&quot;|&#34;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");

/**
 * QA: a POST without one of its fields (a script, a saved request, a proxy that drops a field) was told
 * 'The field "loginId" is missing or not text.', naming FAMOS's internal field. It is named by its label
 * as the screen shows it (SPEC's "Login ID"), in the reader's language; a hidden field the reader never
 * typed is not named at all. Nothing changes.
 */
describe("a missing or over-long field is named by its label", () => {
  let t: TestApp;
  let address = 0;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  async function post(fields: Record<string, string>, language?: string) {
    address += 1;
    const c = new FormClient(t.app, `10.0.7.${address}`);
    await c.get("/login");
    const payload = new URLSearchParams({ ...fields, _csrf: c.csrf! }).toString();
    const headers: Record<string, string> = { cookie: c.cookieHeader(), "content-type": "application/x-www-form-urlencoded", "user-agent": "curl/8.5" };
    if (language) headers["accept-language"] = language;
    return t.app.inject({ method: "POST", url: "/login", payload, headers, remoteAddress: c.ip });
  }

  it("says 'Login ID', not loginId, and starts no sign-in", async () => {
    const sessions = async () => (await t.deps.db.selectFrom("sessions").select("id").execute()).length;
    const before = await sessions();
    const answer = await post({ password: "whatever" });
    expect(answer.statusCode).toBe(400);
    expect(reason(answer.body)).toBe("The field “Login ID” is missing or not text.");
    expect(answer.body).not.toContain("loginId&quot;");
    expect(await sessions()).toBe(before);
    expect(reason((await post({ loginId: "someone" })).body)).toBe("The field “Password” is missing or not text.");
  });

  it("in each of the six languages, with that language's label", async () => {
    for (const locale of LOCALES) {
      const tr = translator(locale, "Europe/London");
      const answer = await post({ password: "whatever" }, locale);
      expect(reason(answer.body), locale).toBe(tr.text("form.fieldMissing", { field: tr.text("field.loginId") }));
      expect(reason(answer.body), locale).not.toContain("loginId");
    }
  });

  it("an over-long value is named by its label too", async () => {
    const answer = await post({ loginId: "x".repeat(5000), password: "p" }, "de");
    expect(answer.statusCode).toBe(400);
    expect(reason(answer.body)).toBe("Der Wert von „Anmelde-ID“ ist zu lang.");
  });

  it("a hidden field the reader never typed (returnTo) is not named", async () => {
    const answer = await post({ loginId: "a", password: "p", returnTo: "/".repeat(3000) });
    expect(answer.statusCode).toBe(400);
    expect(reason(answer.body)).toBe("A value in this form is too long.");
  });
});
