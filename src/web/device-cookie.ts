import type { FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { DEVICE_LIFETIME_MS, DEVICES_PER_BROWSER, identifyDevice, tokenFor, type DeviceReads } from "../regulation/devices.ts";
import { loginKey } from "../users/users.ts";
import { requestIsHttps } from "./https.ts";
import { securityCookie, securityCookieName } from "./security-cookie.ts";

/**
 * The device cookie: up to DEVICES_PER_BROWSER tokens, newest first, one per login ID signed in on
 * this browser. HttpOnly, SameSite=Lax, and in HTTPS mode Secure with the __Host- prefix (RFC 6265bis
 * §4.1.3.2). Unlike the session cookie it is never shared with FAMOS_COOKIE_DOMAIN's sibling hosts:
 * only sign-in reads it, so the protected application never receives it. It outlives the browser
 * session (Max-Age), which is its point.
 */
export function deviceCookieName(deps: Pick<Deps, "config">, request: FastifyRequest): string {
  return securityCookieName("famos_device", requestIsHttps(deps.config, request));
}

const SEPARATOR = "~";

/** The cookie's tokens; none when it is named twice (securityCookie): a planted one is no known device. */
export function deviceTokens(deps: Pick<Deps, "config">, request: FastifyRequest): string[] {
  const raw = securityCookie(request, deviceCookieName(deps, request));
  if (!raw || raw.length > 1024) return [];
  return raw.split(SEPARATOR).filter((t) => t.length > 0).slice(0, DEVICES_PER_BROWSER);
}

/** Puts the login ID's new token first, dropping its old one and the oldest beyond the limit. */
export function setDeviceCookie(deps: Pick<Deps, "config" | "keys">, reply: FastifyReply, loginId: string, token: string): void {
  const request = reply.request;
  const key = loginKey(loginId);
  const others = deviceTokens(deps, request).filter((t) => t !== token && tokenFor(deps.keys.device, [t], key) === null);
  const value = [token, ...others].slice(0, DEVICES_PER_BROWSER).join(SEPARATOR);
  reply.setCookie(deviceCookieName(deps, request), value, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure: requestIsHttps(deps.config, request),
    maxAge: Math.floor(DEVICE_LIFETIME_MS / 1000),
  });
}

/**
 * Does this request come from a browser holding a live device cookie for the login ID it posts? The
 * MAC first, with no database read: a stranger's request (no token for the login ID) costs nothing more.
 * Only a token whose MAC fits is looked up (identifyDevice, the one judge of device cookies), so a
 * revoked one (a new password, a support reset) or one a year unused is counted like a stranger's.
 */
export async function knownDevice(deps: Pick<Deps, "config" | "keys" | "db" | "clock">, request: FastifyRequest, loginId: unknown): Promise<boolean> {
  if (typeof loginId !== "string" || loginId.length === 0 || loginId.length > 1024) return false;
  return (await identifyDevice(deps, deviceTokens(deps, request), loginKey(loginId), deps.clock.now(), deviceReads(request))) !== null;
}

const readsByRequest = new WeakMap<FastifyRequest, DeviceReads>();

/** This request's device reads (identifyDevice), shared by its request limit and its factor step; gone with the request. */
export function deviceReads(request: FastifyRequest): DeviceReads {
  let reads = readsByRequest.get(request);
  if (!reads) readsByRequest.set(request, (reads = new Map()));
  return reads;
}
