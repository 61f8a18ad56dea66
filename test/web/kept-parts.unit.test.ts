import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { html, keptPart, pageBytes } from "../../src/platform/html.ts";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * Issue 17: a large part of a page that is the same on many answers (the Profile's time zones) is
 * encoded once and spliced into the page's bytes as it is sent. What is sent must be exactly the page
 * as rendered whole, and nothing a user types can stand for a part.
 */
describe("kept parts of pages (platform/html.ts)", () => {
  it("sends a page with kept parts as the bytes of the page rendered whole", () => {
    const zones = () => html`<option value="Europe/Vienna">Österreich – Mitteleuropäische Zeit</option>`;
    const whole = html`<title>Profil – FAMOS</title><select>${zones()}</select><p>${"a < b"}</p><select>${zones()}</select>`.value;
    const kept = html`<title>Profil – FAMOS</title><select>${keptPart("test-zones", zones)}</select><p>${"a < b"}</p><select>${keptPart("test-zones", zones)}</select>`.value;
    expect(kept).not.toBe(whole);
    const sent = pageBytes(kept);
    expect(Buffer.isBuffer(sent)).toBe(true);
    expect((sent as Buffer).equals(Buffer.from(whole, "utf8"))).toBe(true);
  });

  it("makes a part once per key", () => {
    let made = 0;
    const make = () => (made++, html`<b>x</b>`);
    keptPart("test-once", make);
    keptPart("test-once", make);
    expect(made).toBe(1);
  });

  it("leaves a page without kept parts as its string, and text that looks like a marker as text", () => {
    const marker = keptPart("test-marker", () => html`<i>secret part</i>`).value;
    // The marker holds a nonce of this process and NUL characters; typed text is escaped, not spliced.
    const typed = html`<p>${marker.replace(/-[0-9a-f-]{36}-/, "-00000000-0000-0000-0000-000000000000-")}</p>`.value;
    expect(pageBytes(typed)).toBe(typed);
    expect(pageBytes("<p>plain</p>")).toBe("<p>plain</p>");
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
});
