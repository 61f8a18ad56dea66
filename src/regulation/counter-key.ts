import { sql, type RawBuilder } from "kysely";
import { addressKey } from "./address.ts";

/**
 * Wrong passwords and wrong codes are counted apart (SPEC "Locks"). The self-service reset's wrong
 * codes ("reset") are counted apart again: its code step needs no password, so anyone who knows a login
 * ID can post codes there, and on the sign-in's code counter they reached FAMOS_CODE_HARD_LOCK, whose
 * lock refuses every browser, the owner's usual one included. On their own counter they pause and, at
 * FAMOS_CODE_HARD_LOCK, lock the reset alone until support unlocks it; the sign-in never reads it.
 */
export type FailureKind = "password" | "code" | "reset";

/**
 * The one home of the throttle key format, built here and read back by loginIdKeySql:
 * "<kind>:id:<login ID's digest>", "<kind>:dev:<device>", "ip:<address>", "console:<user id>". Migration 019 keeps a
 * frozen reading of its own: it reads the keys as older versions wrote them, and must go on reading
 * them so whatever this module becomes.
 */
export const counterKey = {
  loginId: (kind: FailureKind, loginKey: string) => `${kind}:id:${loginKey}`,
  device: (kind: FailureKind, deviceId: string) => `${kind}:dev:${deviceId}`,
  address: (ip: string) => `ip:${addressKey(ip)}`,
  /** A support person's changes in the console (console-actions.ts), by account id: not a lock any page lists. */
  consoleActor: (userId: string) => `console:${userId}`,
};

/**
 * A login ID's counter key read back, in SQL (the Rollout page's locked figure), for the keys of one
 * kind: whether `key` is a login ID's counter of that kind, and the identity it counts (the digest).
 * The kind is a range of keys, from its prefix to the prefix with its last character the next one
 * ("password:id:" to "password:id;"), which the key's index serves on both databases: keys compare
 * as bytes (SQLite's BINARY; PostgreSQL's "C", migration 022). A LIKE served neither (SQLite's LIKE
 * ignores case; PostgreSQL's needed a "C" key too), and read every counter: a spraying run leaves one
 * for each login ID it tried.
 */
export function loginIdKeySql(kind: FailureKind, key: RawBuilder<string>) {
  const prefix = counterKey.loginId(kind, "");
  const next = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return {
    isKind: sql<boolean>`(${key} >= ${prefix} and ${key} < ${next})`,
    loginKey: sql<string>`substr(${key}, ${prefix.length + 1})`,
  };
}
