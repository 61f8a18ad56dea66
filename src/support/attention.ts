import { sql } from "kysely";
import type { Deps } from "../app/deps.ts";
import { addressKey, undeliverableUsers, type UndeliverableUser } from "../bounce/addresses.ts";
import { waitingAddress } from "../profile/waiting-address.ts";
import { enabledHolders } from "../users/shared-address.ts";
import { findUserById } from "../users/users.ts";

export interface SharedAddress {
  /** Lower-cased. */
  address: string;
  users: { id: string; loginId: string; fullName: string; partnerNumber: string }[];
}

/** Addresses confirmed as the OTP email of more than one enabled login ID (issue 15: shared mailboxes in effect, src/users/shared-address.ts), by address. */
export async function sharedAddresses(deps: Deps, limit: number): Promise<SharedAddress[]> {
  const lower = sql<string>`lower(otp_email)`;
  const shared = await enabledHolders(deps)
    .select(lower.as("address"))
    .groupBy(lower)
    .having((eb) => eb.fn.countAll(), ">", 1)
    .orderBy(lower)
    .limit(limit)
    .execute();
  if (shared.length === 0) return [];
  const users = await deps.db
    .selectFrom("users")
    .select(["id", "login_id", "full_name", "partner_number", lower.as("address")])
    .where(lower, "in", shared.map((s) => s.address))
    .where("disabled_at", "is", null)
    .orderBy("login_key")
    .execute();
  return shared.map(({ address }) => ({
    address,
    users: users.filter((u) => u.address === address).map((u) => ({ id: u.id, loginId: u.login_id, fullName: u.full_name, partnerNumber: u.partner_number })),
  }));
}

/** How many addresses each list shows: undeliverable ones newest first, shared ones by address. */
export const ATTENTION_LIMIT = 200;

export interface Attention {
  undeliverable: UndeliverableUser[];
  /** More undeliverable addresses exist than the list shows (a dealership's mail domain failing bounces all its users at once). */
  undeliverableMore: boolean;
  shared: SharedAddress[];
  /** More shared addresses exist than the list shows. */
  sharedMore: boolean;
}

/** The console's "Needs attention": addresses that cannot be delivered to, and addresses several login IDs share. */
export async function needsAttention(deps: Deps): Promise<Attention> {
  // Each list read one longer than shown, to tell a full list from a cut one.
  const [undeliverable, shared] = await Promise.all([heldUndeliverable(deps, ATTENTION_LIMIT + 1), sharedAddresses(deps, ATTENTION_LIMIT + 1)]);
  return {
    undeliverable: undeliverable.slice(0, ATTENTION_LIMIT),
    undeliverableMore: undeliverable.length > ATTENTION_LIMIT,
    shared: shared.slice(0, ATTENTION_LIMIT),
    sharedMore: shared.length > ATTENTION_LIMIT,
  };
}

/**
 * The newest `wanted` undeliverable addresses their users still have. Rows no longer held (stillHeld)
 * are left out, and the read widened by as many, so they neither take the places of addresses still
 * held nor count towards the cut; such rows are few, so it is rarely read twice.
 */
async function heldUndeliverable(deps: Deps, wanted: number): Promise<UndeliverableUser[]> {
  const known = new Map<string, boolean>();
  for (let limit = wanted; ; ) {
    const holders = await undeliverableUsers(deps.db, limit);
    const held = [];
    for (const holder of holders) {
      const key = `${holder.userId} ${holder.email}`;
      if (!known.has(key)) known.set(key, await stillHeld(deps, holder));
      if (known.get(key)) held.push(holder);
    }
    if (held.length >= wanted || holders.length < limit) return held;
    limit = wanted + (holders.length - held.length);
  }
}

/**
 * Whether the user still has the address: the OTP email, or the one waiting for its code as
 * waitingAddress says (a Profile change that ended keeps users.pending_email, and is no problem of
 * anyone's). Read for those rows only, few on any day.
 */
async function stillHeld(deps: Deps, holder: UndeliverableUser): Promise<boolean> {
  if (holder.confirmed) return true;
  const user = await findUserById(deps.db, holder.userId);
  const waiting = user ? await waitingAddress(deps, user) : null;
  return waiting !== null && addressKey(waiting) === addressKey(holder.email);
}
