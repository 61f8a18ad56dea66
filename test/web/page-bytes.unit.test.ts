import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * Issue 17: every character past U+00FF of a page (the title's "–", the catalogues' curly quotes, a
 * name in Greek) is spliced into the answer as bytes, so that V8 holds the page as a one-byte string.
 * What a browser gets must not change by one byte: each page kind below, in each of the six languages,
 * is compared with the bytes the earlier renderer (the whole page as one string, sent as UTF-8) sent
 * for the same requests, kept in page-bytes.json as SHA-256 (written by that renderer with
 * PAGE_BYTES_WRITE=1; the forms' random _csrf tokens and the users' random ids are set to one value first).
 */
const FIXTURE = new URL("./page-bytes.json", import.meta.url);
// A user-supplied name with every kind of text escaping and splicing must survive: markup, quotes, an
// ampersand, a four-byte character, combining marks, right-to-left text, a control character.
const HOSTILE_NAME = `Zoë <script>alert("x")</script> & O'Neil – Ελλάδα 😀 e\u0301 \u05e9\u05dc\u05d5\u05dd \u0007`;

/** Random identifiers of this run (users'), set to one value as the forms' tokens are. */
const randomIds: string[] = [];

/** The answer's bytes with each form's token and each random identifier set to one value (the bytes around them untouched). */
function comparable(answer: LightMyRequestResponse): Buffer {
  let text = answer.rawPayload.toString("latin1").replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="-"');
  for (const id of randomIds) text = text.replaceAll(id, "-");
  return Buffer.from(text, "latin1");
}

describe("the bytes of every page kind in every language (issue 17's one-byte pages)", () => {
  let t: UnitApp;
  const seen: Record<string, string> = {};
  beforeAll(async () => {
    t = await createUnitApp();
  });
  afterAll(async () => {
    await t.close();
    if (process.env.PAGE_BYTES_WRITE === "1") writeFileSync(FIXTURE, `${JSON.stringify(seen, null, 1)}\n`);
  });

  /** Checks what every answer must be and notes its digest under `name`. */
  function note(locale: string, name: string, answer: LightMyRequestResponse): void {
    expect(Number(answer.headers["content-length"]), name).toBe(answer.rawPayload.length);
    expect(answer.headers["content-type"], name).toBe("text/html; charset=utf-8");
    // No marker of a kept part is left in what is sent.
    expect(answer.rawPayload.includes(0), name).toBe(false);
    expect(answer.rawPayload.includes(1), name).toBe(false);
    seen[`${locale} ${name}`] = `${answer.statusCode} ${createHash("sha256").update(comparable(answer)).digest("hex")}`;
  }

  for (const locale of LOCALES) {
    it(`sends the pages of ${locale} as the earlier renderer did, byte for byte`, async () => {
      const headers = { "accept-language": locale };
      const anonymous = new FormClient(t.app, "198.51.100.20", headers);
      note(locale, "GET /login", await anonymous.get("/login"));
      note(locale, "POST /login (wrong password)", await anonymous.post("/login", { loginId: `nobody-${locale}`, password: "not it" }));
      note(locale, "GET /forgot-password", await anonymous.get("/forgot-password"));
      note(locale, "GET /legal", await anonymous.get("/legal"));
      note(locale, "GET /no-such-page", await anonymous.get("/no-such-page"));

      const user = await addUser(t.deps, { loginId: `bytes-${locale}`, fullName: HOSTILE_NAME, email: `bytes-${locale}@dealer.example` });
      randomIds.push(user.id);
      const waiting = await signIn(t, { user, until: "otp", client: new FormClient(t.app, "198.51.100.21", headers), page: null });
      note(locale, "GET /otp", await waiting.client.get("/otp"));
      note(locale, "POST /otp (wrong code)", await waiting.client.post("/otp", { code: waiting.code === "000000" ? "111111" : "000000" }));
      const { client } = await signIn(t, { user, client: new FormClient(t.app, "198.51.100.22", headers), page: null });
      note(locale, "GET /", await client.get("/"));
      note(locale, "GET /profile", await client.get("/profile"));
      note(locale, "POST /profile/password (refused)", await client.post("/profile/password", { currentPassword: "not the password", newPassword: "x", confirmNewPassword: "y" }));

      const agent = await addUser(t.deps, { loginId: `agent-${locale}`, role: "support", fullName: HOSTILE_NAME, email: `agent-${locale}@dealer.example` });
      randomIds.push(agent.id);
      const console = await signIn(t, { user: agent, client: new FormClient(t.app, "198.51.100.23", headers), page: null });
      note(locale, "GET /support", await console.client.get("/support"));
      note(locale, "GET /support?q=bytes", await console.client.get(`/support?q=bytes-${locale}`));
      note(locale, "GET /support/users/:id", await console.client.get(`/support/users/${user.id}`));
    });
  }

  it("matches the earlier renderer's digests", () => {
    if (process.env.PAGE_BYTES_WRITE === "1") return;
    expect(existsSync(FIXTURE)).toBe(true);
    expect(seen).toEqual(JSON.parse(readFileSync(FIXTURE, "utf8")));
  });
});
