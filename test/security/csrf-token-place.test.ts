import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetch } from "undici";
import { createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { snapshot } from "./helpers.ts";

/**
 * ASVS 4.2.2, red team: FAMOS reads its CSRF token from the form body only. A token in the query string
 * (it leaks through logs and Referer) or in a header (which a framework may accept while its forms are
 * checked elsewhere) is refused, over real HTTP with the browser's own cookies and Origin, and nothing
 * changes. Held when tried; web-defences.test covers a missing or foreign token, not a misplaced one.
 */
describe("the CSRF token's place", () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp();
    base = await listen(t);
  });
  afterAll(async () => t.close());

  it("a valid token in the query string or in an X-CSRF-Token header is refused with 403; in the body it passes", async () => {
    const { client, user } = await signIn(t, { client: new FormClient(overHttp(base)), page: "/profile" });
    // Another browser of the same user: the session a forged "End all other sessions" would end.
    const { client: other } = await signIn(t, { user, client: new FormClient(overHttp(base)), page: "/profile" });
    await client.get("/profile");
    const token = client.csrf!;
    const headers = { cookie: client.cookieHeader(), origin: base, "content-type": "application/x-www-form-urlencoded" };
    const before = await snapshot(t.deps.db);
    const misplaced = [
      { url: `/profile/sessions/end-others?_csrf=${encodeURIComponent(token)}`, headers, body: "" },
      { url: "/profile/sessions/end-others", headers: { ...headers, "x-csrf-token": token, "csrf-token": token, "x-xsrf-token": token }, body: "" },
    ];
    for (const request of misplaced) {
      const answer = await fetch(new URL(request.url, base), { method: "POST", headers: request.headers, body: request.body, redirect: "manual" });
      expect(answer.status, request.url).toBe(403);
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    expect((await other.get("/profile")).statusCode).toBe(200);
    const placed = await fetch(new URL("/profile/sessions/end-others", base), { method: "POST", headers, body: `_csrf=${encodeURIComponent(token)}`, redirect: "manual" });
    expect(placed.status).toBe(303);
    expect((await other.get("/profile")).statusCode, "the other session ended only then").toBe(303);
  });
});
