import Fastify from "fastify";
import fastifyCookie from "@fastify/cookie";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { securityCookie, securityCookieName } from "../../src/web/security-cookie.ts";

/** securityCookie as @fastify/cookie parses the header: a name counts when it is a pair's whole name (cookie-tossing.test over HTTP). */
describe("securityCookie", () => {
  const app = Fastify();
  beforeAll(async () => {
    await app.register(fastifyCookie);
    app.get("/", async (request) => ({ value: securityCookie(request, "famos_session") ?? String(securityCookie(request, "famos_session")) }));
    await app.ready();
  });
  afterAll(async () => app.close());
  const read = async (cookie: string) => (await app.inject({ url: "/", headers: { cookie } })).json<{ value: string }>().value;

  it.each([
    ["famos_session=a", "a"],
    ["famos_session=a; __Host-famos_session=b; xfamos_session=c; other=famos_session=d", "a"],
    ["famos_session; famos_session=a", "a"],
    ["", "undefined"],
    ["famos_session=a; famos_session=b", "null"],
    ["famos_session=a;famos_session=a", "null"],
    ["famos_session=a; \t famos_session \t=b", "null"],
    ["famos_session=; famos_session=b", "null"],
    // Mutation survivors (stryker, 2026-12-06): a longer name ending in it, first in the header, is
    // another cookie; white space before the first pair still starts one.
    ["xfamos_session=c; famos_session=a", "a"],
    [" \tfamos_session=a; famos_session=b", "null"],
  ])("%j reads %s", async (cookie, expected) => {
    expect(await read(cookie)).toBe(expected);
  });

  it("names: plain over HTTP; __Host- under HTTPS, __Secure- with a Domain", () => {
    expect([securityCookieName("famos_x", false, "d.example"), securityCookieName("famos_x", true), securityCookieName("famos_x", true, "d.example")]).toEqual(["famos_x", "__Host-famos_x", "__Secure-famos_x"]);
  });
});
