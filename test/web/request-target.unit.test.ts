import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { isRefusedTarget, originFormTarget } from "../../src/web/request-target.ts";

/**
 * rewriteUrl's rule (src/web/request-target.ts) on its own, target by target: an absolute-form target
 * (RFC 9112 3.2.2) reduced to its path and query, its host compared with the Host header as the URL
 * parser writes hosts (case, the scheme's default port), a foreign or unreadable one marked for
 * input-guard's 400; every other form left as it is. test/web/request-target-forms.test.ts sends the
 * same over a socket (integration tier).
 */
function request(url: string | undefined, host?: string, method = "GET"): IncomingMessage {
  return { method, url, headers: host === undefined ? {} : { host } } as unknown as IncomingMessage;
}

function rewrite(url: string | undefined, host?: string, method = "GET"): { url: string; foreign: boolean } {
  const req = request(url, host, method);
  const reduced = originFormTarget(req);
  return { url: reduced, foreign: isRefusedTarget(req) };
}

describe("originFormTarget (unit tier)", () => {
  it("leaves origin-form as it is, and a missing url is the root", () => {
    expect(rewrite("/support/users/x?tab=1", "famos.test")).toEqual({ url: "/support/users/x?tab=1", foreign: false });
    expect(rewrite("/", "famos.test")).toEqual({ url: "/", foreign: false });
    expect(rewrite(undefined, "famos.test")).toEqual({ url: "/", foreign: false });
  });

  it("reduces absolute-form to its path and query, for http and https in any case", () => {
    expect(rewrite("http://famos.test/support/users/x?tab=1", "famos.test")).toEqual({ url: "/support/users/x?tab=1", foreign: false });
    expect(rewrite("https://famos.test/login", "famos.test")).toEqual({ url: "/login", foreign: false });
    expect(rewrite("HTTP://famos.test/login", "famos.test")).toEqual({ url: "/login", foreign: false });
    expect(rewrite("HttpS://famos.test/login", "famos.test")).toEqual({ url: "/login", foreign: false });
  });

  it("gives a target without a path the root, keeping its query; a query's slash is not the path's", () => {
    expect(rewrite("http://famos.test", "famos.test")).toEqual({ url: "/", foreign: false });
    expect(rewrite("http://famos.test?returnTo=/profile", "famos.test")).toEqual({ url: "/?returnTo=/profile", foreign: false });
    expect(rewrite("http://famos.test?a=1", "famos.test")).toEqual({ url: "/?a=1", foreign: false });
    expect(rewrite("http://famos.test/?a=1", "famos.test")).toEqual({ url: "/?a=1", foreign: false });
    expect(rewrite("http://famos.test/a/b?c=/d", "famos.test")).toEqual({ url: "/a/b?c=/d", foreign: false });
    // The path as written, not parsed: dots and doubled slashes route as they would in origin-form.
    expect(rewrite("http://famos.test//x/../y", "famos.test")).toEqual({ url: "//x/../y", foreign: false });
  });

  it("leaves other schemes, a fragment, an empty authority, OPTIONS's asterisk-form and authority-form for the router", () => {
    for (const target of ["ftp://famos.test/login", "ws://famos.test/login", "http://famos.test/login#top", "http:///login", "https://", "famos.test:443"]) {
      expect(rewrite(target, "famos.test"), target).toEqual({ url: target, foreign: false });
    }
    expect(rewrite("*", "famos.test", "OPTIONS")).toEqual({ url: "*", foreign: false });
  });

  it("marks asterisk-form with any method but OPTIONS for input-guard's 400 (RFC 9112 3.2.4), not the root's page", () => {
    for (const method of ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "TRACE"]) {
      expect(rewrite("*", "famos.test", method), method).toEqual({ url: "*", foreign: true });
    }
    // Methods are case-sensitive (RFC 9110 9.1): "options" is not OPTIONS.
    expect(rewrite("*", "famos.test", "options").foreign).toBe(true);
    // Only the target "*" itself: "*x", "**" and the like are no asterisk-form, left for the router's 400.
    for (const target of ["**", "*?a=1", "*/login"]) expect(rewrite(target, "famos.test"), target).toEqual({ url: target, foreign: false });
  });

  it("compares the target's host with Host as the URL parser writes them: case and the scheme's default port", () => {
    expect(rewrite("http://FAMOS.Test/login", "famos.test").foreign).toBe(false);
    expect(rewrite("http://famos.test/login", "FAMOS.TEST").foreign).toBe(false);
    expect(rewrite("http://famos.test:80/login", "famos.test").foreign).toBe(false);
    expect(rewrite("http://famos.test/login", "famos.test:80").foreign).toBe(false);
    expect(rewrite("https://famos.test:443/login", "famos.test").foreign).toBe(false);
    expect(rewrite("https://famos.test/login", "famos.test:443").foreign).toBe(false);
    expect(rewrite("http://famos.test:8443/login", "famos.test:8443").foreign).toBe(false);
    expect(rewrite("http://127.0.0.1:3000/login", "127.0.0.1:3000").foreign).toBe(false);
  });

  it("marks a target naming another host or port than Host as foreign, still reduced", () => {
    expect(rewrite("http://elsewhere.example/support/users/x", "famos.test")).toEqual({ url: "/support/users/x", foreign: true });
    expect(rewrite("http://famos.test:8080/login", "famos.test")).toEqual({ url: "/login", foreign: true });
    expect(rewrite("https://famos.test:80/login", "famos.test")).toEqual({ url: "/login", foreign: true });
    expect(rewrite("http://famos.test:443/login", "famos.test:443").foreign).toBe(false);
    expect(rewrite("https://famos.test/login", "famos.test:80").foreign).toBe(true);
    expect(rewrite("http://famos.test.elsewhere.example/login", "famos.test").foreign).toBe(true);
  });

  it("marks a target with credentials or an unreadable host as foreign, with or without Host", () => {
    for (const host of ["famos.test", undefined]) {
      expect(rewrite("http://user:pass@famos.test/login", host), `${host}`).toEqual({ url: "/login", foreign: true });
      expect(rewrite("http://user@famos.test/login", host).foreign).toBe(true);
      expect(rewrite("http://:pass@famos.test/login", host).foreign).toBe(true);
      expect(rewrite("http://fam os.test/login", host).foreign).toBe(true);
      expect(rewrite("http://famos.test:99999/login", host).foreign).toBe(true);
    }
  });

  it("takes the target's host when there is no Host header (HTTP/1.0)", () => {
    expect(rewrite("http://famos.test/login")).toEqual({ url: "/login", foreign: false });
  });

  it("leaves a target with no scheme separator for the router, with or without Host (not read as http)", () => {
    for (const target of ["https", "httpx", "http:", "https:/famos.test/login", "http//famos.test"]) {
      expect(rewrite(target, "famos.test")).toEqual({ url: target, foreign: false });
      expect(rewrite(target)).toEqual({ url: target, foreign: false });
    }
  });

  it("marks nothing it did not reduce", () => {
    expect(isRefusedTarget(request("/login", "famos.test"))).toBe(false);
    const untouched = request("ftp://elsewhere.example/x", "famos.test");
    originFormTarget(untouched);
    expect(isRefusedTarget(untouched)).toBe(false);
  });
});
