import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { SafeHtml } from "../../src/platform/html.ts";
import { buildApp } from "../../src/web/app.ts";
import { withFormAnswerScript } from "../../src/web/form-answer.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signIn, type SignInApp } from "../support/client.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { createUnitDeps } from "../support/unit-app.ts";

/**
 * Issue 17: every character past U+00FF of a page (the title's "–", the catalogues' curly quotes, a
 * name in Greek) is spliced into the answer as bytes, so that V8 holds the page as a one-byte string.
 * What a browser gets must not change by one byte: each page kind below, in each of the six languages,
 * is compared with what the earlier way sent for the same page, its whole text (with the form-answer
 * script a refused form's page gets) as one string in UTF-8. That `SafeHtml.value` is the earlier
 * renderer's text is test/platform/html-wide-parts.unit.test.ts's property. (Checked once more against
 * the earlier renderer's own answers when this came in: SHA-256 of these 78 answers, all equal.)
 */
// A user-supplied name with every kind of text escaping and splicing must survive: markup, quotes, an
// ampersand, a four-byte character, combining marks, right-to-left text, a control character.
const HOSTILE_NAME = `Zoë <script>alert("x")</script> & O'Neil – Ελλάδα 😀 e\u0301 \u05e9\u05dc\u05d5\u05dd \u0007`;

describe("the bytes of every page kind in every language (issue 17's one-byte pages)", () => {
  let t: SignInApp & { app: FastifyInstance; deps: Deps };
  let close: () => Promise<void>;
  /** The bytes the earlier way sent for the last answer: the page's whole text as the route gave it, in UTF-8. */
  let earlier: Buffer | undefined;
  beforeAll(async () => {
    const unit = await createUnitDeps();
    const app = await buildApp({ deps: unit.deps, store: { db: unit.deps.db, dialect: unit.deps.dialect, schema: null, close: unit.close } });
    app.addHook("onRequest", (request, reply, done) => {
      const send = reply.send.bind(reply);
      reply.send = (payload?: unknown) => {
        if (payload instanceof SafeHtml) earlier = Buffer.from(String(withFormAnswerScript(request, reply, payload.value)), "utf8");
        else if (typeof payload === "string") earlier = Buffer.from(payload, "utf8");
        return send(payload);
      };
      done();
    });
    await app.ready();
    t = { app, deps: unit.deps, mailbox: outboxMailbox(unit.deps.db) };
    close = async () => {
      await app.close();
      await unit.close();
    };
  });
  afterAll(() => close());

  /** Checks what every answer must be. */
  function check(name: string, answer: LightMyRequestResponse): void {
    expect(Number(answer.headers["content-length"]), name).toBe(answer.rawPayload.length);
    expect(answer.headers["content-type"], name).toBe("text/html; charset=utf-8");
    // No marker of a kept part is left in what is sent.
    expect(answer.rawPayload.includes(0), name).toBe(false);
    expect(answer.rawPayload.includes(1), name).toBe(false);
    expect(earlier?.toString("hex"), name).toBe(answer.rawPayload.toString("hex"));
    earlier = undefined;
  }

  for (const locale of LOCALES) {
    it(`sends the pages of ${locale} as the earlier way did, byte for byte`, async () => {
      const headers = { "accept-language": locale };
      const anonymous = new FormClient(t.app, "198.51.100.20", headers);
      check(`${locale} GET /login`, await anonymous.get("/login"));
      check(`${locale} POST /login (wrong password)`, await anonymous.post("/login", { loginId: `nobody-${locale}`, password: "not it" }));
      check(`${locale} GET /forgot-password`, await anonymous.get("/forgot-password"));
      check(`${locale} GET /legal`, await anonymous.get("/legal"));
      check(`${locale} GET /no-such-page`, await anonymous.get("/no-such-page"));

      const user = await addUser(t.deps, { loginId: `bytes-${locale}`, fullName: HOSTILE_NAME, email: `bytes-${locale}@dealer.example` });
      const waiting = await signIn(t, { user, until: "otp", client: new FormClient(t.app, "198.51.100.21", headers), page: null });
      check(`${locale} GET /otp`, await waiting.client.get("/otp"));
      check(`${locale} POST /otp (wrong code)`, await waiting.client.post("/otp", { code: waiting.code === "000000" ? "111111" : "000000" }));
      const { client } = await signIn(t, { user, client: new FormClient(t.app, "198.51.100.22", headers), page: null });
      check(`${locale} GET /`, await client.get("/"));
      check(`${locale} GET /profile`, await client.get("/profile"));
      check(`${locale} POST /profile/password (refused)`, await client.post("/profile/password", { currentPassword: "not the password", newPassword: "x", confirmNewPassword: "y" }));

      const agent = await addUser(t.deps, { loginId: `agent-${locale}`, role: "support", fullName: HOSTILE_NAME, email: `agent-${locale}@dealer.example` });
      const console = await signIn(t, { user: agent, client: new FormClient(t.app, "198.51.100.23", headers), page: null });
      check(`${locale} GET /support`, await console.client.get("/support"));
      check(`${locale} GET /support?q=bytes`, await console.client.get(`/support?q=bytes-${locale}`));
      check(`${locale} GET /support/users/:id`, await console.client.get(`/support/users/${user.id}`));
    });
  }
});
