import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { liveSessions } from "./helpers.ts";

const SECOND = 1000;

/**
 * The attacker's round on the code step over real HTTP (a listening server, undici's fetch), on SQLite
 * and PostgreSQL, beside attacks-http.test: Confirm racing Regenerate OTP in one browser, and method
 * overrides. Each does what one of its requests alone allows, or is refused; nothing answers 5xx.
 */
describe.each(DIALECTS)("races and overrides on the code step (%s)", (database) => {
  let t: TestApp;
  let base: string;
  const atCode = () => signIn({ mailbox: t.mailbox, deps: t.deps }, { until: "otp", client: new FormClient(overHttp(base)) });

  beforeAll(async () => {
    t = await createTestApp({ database });
    base = await listen(t);
  });
  afterAll(async () => t.close());

  /** The user's codes nobody used or voided that are still in time: what could still be typed. */
  const liveCodes = (userId: string) =>
    t.deps.db.selectFrom("codes").select("id").where("user_id", "=", userId).where("consumed_at", "is", null).where("voided_at", "is", null).where("expires_at", ">", t.clock.now()).execute();

  it("SPEC Regenerate / Codes: Confirm racing Regenerate OTP (past the wait) signs in at most once, and a sign-in leaves no live code behind", async () => {
    for (let round = 0; round < 6; round += 1) {
      const { client, user, code } = await atCode();
      t.clock.advance(31 * SECOND);
      const [confirm, regenerate] = await Promise.all([client.post("/otp", { code: code! }), client.post("/otp/regenerate", {})]);
      for (const answer of [confirm, regenerate]) expect(answer.statusCode, `round ${round}`).toBeLessThan(500);
      const stages = (await liveSessions(t.deps, user.id)).map((s) => s.stage);
      const signedIn = confirm.statusCode === 303 && confirm.headers.location === "/";
      // Either the confirmation came first (signed in, the Regenerate found no sign-in waiting) or the
      // Regenerate did (the code typed was void by then: told, counted, and the new code waits).
      if (signedIn) {
        expect(stages, `round ${round}`).toEqual(["full"]);
        expect(await liveCodes(user.id), `round ${round}`).toEqual([]);
      } else {
        expect(stages, `round ${round}`).toEqual(["otp"]);
        expect(await liveCodes(user.id), `round ${round}`).toHaveLength(1);
      }
    }
  });

  it("RFC 9110 / OWASP: method-override headers and _method are ignored: a GET stays a GET (changes nothing), a POST stays a POST (needs its token)", async () => {
    const { client, user } = await signIn({ mailbox: t.mailbox, deps: t.deps }, { client: new FormClient(overHttp(base)) });
    const overrides = { "x-http-method-override": "GET", "x-http-method": "GET", "x-method-override": "GET" };
    // A POST without its token, told to pass for a GET: refused as the POST it is.
    expect((await client.post("/logout?_method=GET", { _method: "GET" }, { csrf: false, headers: overrides })).statusCode).toBe(403);
    // A GET told to pass for a POST: the path answers GET with 405, and signs nobody out.
    const get = new FormClient(overHttp(base), "127.0.0.1", { "x-http-method-override": "POST", "x-http-method": "POST", "x-method-override": "POST" });
    for (const [name, value] of client.cookies) get.cookies.set(name, value);
    expect((await get.get("/logout?_method=POST")).statusCode).toBe(405);
    expect((await liveSessions(t.deps, user.id)).map((s) => s.stage)).toEqual(["full"]);
  });
});
