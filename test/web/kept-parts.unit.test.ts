import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { html, keptPart, pageBytes } from "../../src/platform/html.ts";
import { FormClient, signIn } from "../support/client.ts";
import { buildApp } from "../../src/web/app.ts";
import { createUnitApp, createUnitDeps, type UnitApp } from "../support/unit-app.ts";

/**
 * Issue 17: a large part of a page that is the same on many answers (the Profile's time zones) is
 * encoded once and spliced into the page's bytes as it is sent. What is sent must be exactly the page
 * as rendered whole, and nothing a user types can stand for a part.
 */
describe("kept parts of pages (platform/html.ts)", () => {
  it("sends a page with kept parts as the bytes of the page rendered whole", () => {
    const zones = () => html`<option value="Europe/Vienna">Österreich – Mitteleuropäische Zeit</option>`;
    const whole = html`<title>Profil – FAMOS</title><select>${zones()}</select><p>${"a < b"}</p><select>${zones()}</select>`.value;
    const kept = html`<title>Profil – FAMOS</title><select>${keptPart("test-zones", zones)}</select><p>${"a < b"}</p><select>${keptPart("test-zones", zones)}</select>`;
    expect(kept.marked).not.toBe(whole);
    const sent = pageBytes(kept.marked, kept.parts);
    expect(Buffer.isBuffer(sent)).toBe(true);
    expect((sent as Buffer).equals(Buffer.from(whole, "utf8"))).toBe(true);
  });

  it("sends the same bytes with a part first and last, four-byte characters and a lone surrogate between parts", () => {
    const part = () => html`<option>Ελλάδα – 😀</option>`;
    const text = "x \u{1F600} \ud800 é";
    const whole = html`${part()}<p>${text}</p>${part()}${part()}`.value;
    const kept = html`${keptPart("test-edges", part)}<p>${text}</p>${keptPart("test-edges", part)}${keptPart("test-edges", part)}`;
    const sent = pageBytes(kept.marked, kept.parts);
    expect(Buffer.isBuffer(sent)).toBe(true);
    expect((sent as Buffer).toString("hex")).toBe(Buffer.from(whole, "utf8").toString("hex"));
  });

  it("makes a part once per key", () => {
    let made = 0;
    const make = () => (made++, html`<b>x</b>`);
    keptPart("test-once", make);
    keptPart("test-once", make);
    expect(made).toBe(1);
  });

  it("leaves a page without kept parts as its string, and text that looks like a marker as text", () => {
    const marker = keptPart("test-marker", () => html`<i>secret part</i>`).marked;
    // The marker holds a nonce of this process and NUL characters; typed text is escaped, not spliced.
    const typed = html`<p>${marker.replace(/-[0-9a-f-]{36}-/, "-00000000-0000-0000-0000-000000000000-")}</p>`.marked;
    expect(pageBytes(typed)).toBe(typed);
    expect(pageBytes("<p>plain</p>")).toBe("<p>plain</p>");
    // A marker's control characters on their own, before a real one: text, and the part still found.
    const stray = `<p>\u0000\u0001part-\u0000</p>`;
    expect(pageBytes(stray)).toBe(stray);
    const withPart = pageBytes(`${stray}${marker}`);
    expect(Buffer.isBuffer(withPart) && withPart.toString("utf8")).toBe(`${stray}<i>secret part</i>`);
  });

  it("sends a page rendered before two new starts of the store (512 new keys) with its parts: the page carries them", () => {
    const zones = () => html`<option value="Europe/Rome">Italia – ora dell’Europa centrale</option>`;
    const whole = html`<main><select>${zones()}</select><p>${"x & y"}</p></main>`.value;
    // Nested as pages are: the part inside a section inside the page, and inside a list.
    const section = html`<select>${[keptPart("test-rotated", zones)]}</select>`;
    const page = html`<main>${section}<p>${"x & y"}</p></main>`;
    for (let i = 0; i < 512; i++) keptPart(`test-rotation-${i}`, () => html`<i>${i}</i>`);
    const sent = pageBytes(page.marked, page.parts);
    expect(Buffer.isBuffer(sent)).toBe(true);
    expect((sent as Buffer).equals(Buffer.from(whole, "utf8"))).toBe(true);
    // A page without parts carries none.
    expect(html`<p>${"plain"}${html`<b>x</b>`}</p>`.parts).toBeUndefined();
  });

  describe("through the app", () => {
    let t: UnitApp;
    beforeAll(async () => {
      t = await createUnitApp();
    });
    afterAll(() => t.close());

    it("sends the Profile with its whole time zone list, and a refused form's answer with the form-answer script too", async () => {
      const { client } = await signIn(t, { client: new FormClient(t.app, "198.51.100.7", { "accept-language": "de" }) });
      const page = await client.get("/profile");
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain("\u0000");
      expect(page.body).not.toContain("\u0001");
      expect(page.body).toContain('<option value="Europe/Vienna">');
      expect(page.body).toContain("Mitteleuropäische Zeit");
      expect(Number(page.headers["content-length"])).toBe(Buffer.byteLength(page.body));
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      const refused = await client.post("/profile/password", { currentPassword: "not the password", newPassword: "x", confirmNewPassword: "y" });
      expect(refused.statusCode).toBeGreaterThanOrEqual(400);
      expect(refused.body).toContain('<script type="module" src="/static/form-answer.js"></script>');
      expect(refused.body).toContain('<option value="Europe/Vienna">');
      expect(refused.body).not.toContain("\u0000");
    });
  });

  it("through the app's hooks: a page sent as SafeHtml whose parts rotate out before it is sent answers 200 whole, for a GET and a form's answer", async () => {
    const { deps, close } = await createUnitDeps();
    const app = await buildApp({ deps, store: { db: deps.db, dialect: deps.dialect, schema: null, close } });
    const part = () => html`<option value="Europe/Rome">Italia – ora dell’Europa centrale</option>`;
    const rendered = async () => {
      const page = html`<html><head></head><body><select>${keptPart("test-app-rotated", part)}</select></body></html>`;
      await Promise.resolve();
      for (let i = 0; i < 2 * 256 + 1; i++) keptPart(`test-app-rotation-${i}-${Math.random()}`, () => html`<option>${i}</option>`);
      return page;
    };
    app.get("/test-kept-parts", async (_request, reply) => reply.type("text/html; charset=utf-8").send(await rendered()));
    app.post("/test-kept-parts", { config: { csrf: false } }, async (_request, reply) => reply.code(400).type("text/html; charset=utf-8").send(await rendered()));
    await app.ready();
    try {
      const got = await app.inject({ method: "GET", url: "/test-kept-parts" });
      expect([got.statusCode, got.body]).toEqual([200, html`<html><head></head><body><select>${part()}</select></body></html>`.value]);
      const posted = await app.inject({ method: "POST", url: "/test-kept-parts", payload: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(posted.statusCode).toBe(400);
      expect(posted.body).toContain(part().value);
      expect(posted.body).toContain("/static/form-answer.js");
    } finally {
      await app.close();
      await close();
    }
  });
});
