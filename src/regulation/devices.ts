import { createHmac, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { randomId } from "../platform/random.ts";
import { preparedInsert, preparedQuery } from "../store/prepared.ts";
import type { Database } from "../store/schema.ts";

/**
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
 * completed a sign-in for a login ID holds a token naming a server-side row, with a MAC over the row
 * and the login key. It carries no personal data; it is worth nothing for another login ID, when
 * altered, or once the row is revoked.
 */

/** A device is remembered this long after its last sign-in (the cookie's Max-Age too). */
export const DEVICE_LIFETIME_MS = 365 * 86_400_000;
/**
 * Tokens one browser keeps, the oldest going first: a showroom's shared counter PC signs in its whole
 * team, and each of them must keep this browser's protection from a stranger's pause (at 5, the sixth
 * colleague's sign-in dropped the first's). Fifteen 66-character tokens make a 1,004-character cookie,
 * within the 1,024 characters device-cookie.ts reads.
 */
export const DEVICES_PER_BROWSER = 15;

function mac(key: Buffer, deviceId: string, loginKey: string): Buffer {
  return createHmac("sha256", key).update(`${deviceId}\n${loginKey}`).digest();
}

export function deviceToken(key: Buffer, deviceId: string, loginKey: string): string {
  return `${deviceId}.${mac(key, deviceId, loginKey).toString("base64url")}`;
}

/** The device id of the first token whose MAC fits this login key (constant-time compare), else null. */
export function tokenFor(key: Buffer, tokens: readonly string[], loginKey: string): string | null {
  for (const token of tokens) {
    const [deviceId, signature, extra] = token.split(".");
    if (!deviceId || !signature || extra !== undefined || deviceId.length > 64) continue;
    const expected = mac(key, deviceId, loginKey);
    const given = Buffer.from(signature, "base64url");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return deviceId;
  }
  return null;
}

/**
 * One request's device reads, never kept beyond it (issue 17): the request limit asks identifyDevice
 * whether the browser is known (web/rate-limit.ts), then the factor step asks again for its
 * throttle's subject; the second answer is the first read's, judged again at its own time. Keyed by
 * device and login key; what is kept is the row's last use (null: none live when read).
 */
export type DeviceReads = Map<string, { at: number; lastUsedAt: number | null }>;

/**
 * The browser's live device for this login ID: a token that verifies and a row neither revoked nor
 * stale. With `reads` (the request's own), a row already read in this request is not read again.
 */
export async function identifyDevice(deps: Pick<Deps, "db" | "keys">, tokens: readonly string[], loginKey: string, now: number, reads?: DeviceReads): Promise<string | null> {
  const deviceId = tokenFor(deps.keys.device, tokens, loginKey);
  if (!deviceId) return null;
  const key = `${deviceId}\n${loginKey}`;
  let read = reads?.get(key);
  // A read from a later time than this call's (a clock set back) is not reused.
  if (!read || read.at > now) {
    const [row] = await liveDevice(deps.db, deviceId, loginKey, now - DEVICE_LIFETIME_MS);
    read = { at: now, lastUsedAt: row ? row.last_used_at : null };
    reads?.set(key, read);
  }
  return read.lastUsedAt !== null && read.lastUsedAt > now - DEVICE_LIFETIME_MS ? deviceId : null;
}

// Issue 17: the device statements of a sign-in, built and compiled once.
const liveDevice = preparedQuery((db, deviceId: string, loginKey: string, usedSince: number) =>
  db.selectFrom("devices").select(["id", "last_used_at"]).where("id", "=", deviceId).where("login_key", "=", loginKey).where("revoked_at", "is", null).where("last_used_at", ">", usedSince),
);
const touchDevice = preparedQuery((db, deviceId: string, now: number) => db.updateTable("devices").set({ last_used_at: now }).where("id", "=", deviceId));
const insertDevice = preparedInsert("devices", ["id", "login_key", "created_at", "last_used_at", "revoked_at"]);

/** After a completed sign-in: the device this browser now holds for the login ID (the same one, renewed, or a new one). */
export async function rememberDevice(deps: Pick<Deps, "keys" | "random">, db: Kysely<Database>, loginKey: string, known: string | null, now: number): Promise<string> {
  let deviceId = known;
  if (deviceId) await touchDevice(db, deviceId, now);
  else {
    deviceId = randomId(deps.random);
    await insertDevice(db, { id: deviceId, login_key: loginKey, created_at: now, last_used_at: now, revoked_at: null });
  }
  return deviceToken(deps.keys.device, deviceId, loginKey);
}

/**
 * Makes every device cookie of the login ID worth nothing (support reset, a new password), but the
 * one `except` names (the browser that chose the new password): the number revoked.
 */
export async function revokeDevices(db: Kysely<Database>, loginKey: string, now: number, except: string | null = null): Promise<number> {
  const result = await db
    .updateTable("devices")
    .set({ revoked_at: now })
    .where("login_key", "=", loginKey)
    .where("revoked_at", "is", null)
    .$if(except !== null, (qb) => qb.where("id", "!=", except!))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
