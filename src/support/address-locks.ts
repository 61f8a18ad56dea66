import { isIP } from "node:net";
import type { Deps } from "../app/deps.ts";
import { recordAudit } from "../audit/audit.ts";
import { activeAddressLocks, addressLockInfo, countedAddress, unlockAddress, type AddressLock } from "../regulation/locks.ts";
import { actingNow, type Acting, type Refusal } from "./acting.ts";

export type AddressInput = { ok: true; address: string } | { ok: false; message: string };

/**
 * An address as support types it: an IPv4 or IPv6 address, or an IPv6 /64 as the console lists it.
 * Answered as FAMOS counts it (an IPv6 address by its /64).
 */
export function parseAddress(raw: string): AddressInput {
  const text = raw.trim();
  const prefix = /^([0-9a-f:]+)::\/64$/i.exec(text);
  if (isIP(text) !== 0) return { ok: true, address: countedAddress(text) };
  // Any spelling of a /64 (2001:db8::/64, 2001:DB8:0:0::/64) is the key its addresses are counted under.
  if (prefix && isIP(`${prefix[1]}::`) === 6) return { ok: true, address: countedAddress(`${prefix[1]}::`) };
  return { ok: false, message: `"${text.slice(0, 80)}" is not an IP address (such as 203.0.113.7 or 2001:db8::1)` };
}

/** Active address locks for the console's page. */
export function listAddressLocks(deps: Deps): Promise<AddressLock[]> {
  return activeAddressLocks(deps.db, deps.clock.now());
}

export function showAddress(deps: Deps, address: string): Promise<AddressLock | null> {
  return addressLockInfo(deps.db, address, deps.clock.now());
}

export type AddressUnlockOutcome = { kind: "unlocked"; address: string; lifted: AddressLock | null } | Refusal;

/**
 * "Unlock address": clears the address's count of failed sign-ins and its lock for new browsers.
 * Audited whether or not anything was counted. Support and admin may do it (the route's access rule
 * and the command line's operator); an address is nobody's own account, so no separation applies.
 */
export async function unlockAddressBy(deps: Deps, by: Acting, address: string): Promise<AddressUnlockOutcome> {
  // The acting person as they are now (actingNow): the console's step-up checked a password since the request read them.
  const actor = await actingNow(deps.db, by);
  if (actor.user && actor.user.role === "user") return { kind: "forbidden", reason: "no-role", message: "Your role does not give access to the support console." };
  const now = deps.clock.now();
  const lifted = await unlockAddress(deps.db, address, now);
  await recordAudit(deps.db, now, {
    ...by.audit,
    event: "address.unlocked",
    subject: null,
    detail: { address, wasLocked: lifted?.lockedUntil != null, failures: lifted?.failures ?? 0 },
  });
  return { kind: "unlocked", address, lifted };
}
