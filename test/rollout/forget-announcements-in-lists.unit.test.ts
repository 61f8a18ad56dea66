import type { KyselyPlugin, OperationNode } from "kysely";
import { describe, expect, it } from "vitest";
import { forgetStaleAnnouncements } from "../../src/rollout/announce.ts";
import { readPlan, setWaveStart } from "../../src/rollout/plan.ts";
import { KEYS_PER_IN_LIST } from "../../src/store/in-lists.ts";
import { createUser } from "../../src/users/users.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const USERS = 2 * KEYS_PER_IN_LIST + 1;

/** The longest IN list (a list of values bound one by one) anywhere in a statement's tree. */
function longestValueList(node: unknown): number {
  if (node === null || typeof node !== "object") return 0;
  const own = (node as OperationNode).kind === "PrimitiveValueListNode" || (node as OperationNode).kind === "ValueListNode" ? (node as { values: readonly unknown[] }).values.length : 0;
  return Math.max(own, ...Object.values(node).map(longestValueList));
}

/**
 * A moved wave marks its announced users not announced again (forgetStaleAnnouncements) in slices of
 * the one bound of an IN list (KEYS_PER_IN_LIST, store/in-lists.ts), not a number of its own.
 */
describe("a moved wave forgets its announcements in IN lists of KEYS_PER_IN_LIST", () => {
  const unit = useUnitDeps();

  it(`marks all ${USERS} users in ${Math.ceil(USERS / KEYS_PER_IN_LIST)} updates of at most ${KEYS_PER_IN_LIST} keys`, async () => {
    const { deps } = unit;
    await setWaveStart(deps.db, "7", 9_000_000, 1_000, "test");
    for (let i = 0; i < USERS; i += 1) {
      const user = (await createUser(deps.db, deps.keys, deps.random, 1_000, { loginId: `u${i}`, fullName: "U", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null }))!;
      await deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: `u${i}@dealer.example`, grace_used: 0, announced_at: 5_000_000 }).execute();
    }
    let updates = 0;
    const plugin: KyselyPlugin = { transformQuery: ({ node }) => ((updates += node.kind === "UpdateQueryNode" ? 1 : 0), node), transformResult: async ({ result }) => result };
    const before = await readPlan(deps.db);
    const told = await forgetStaleAnnouncements({ ...deps, db: deps.db.withPlugin(plugin) }, before, { ...before, partners: new Map([["7", 9_500_000]]) }, "7");
    expect(told).toBe(USERS);
    expect(updates).toBe(Math.ceil(USERS / KEYS_PER_IN_LIST));
    expect(await deps.db.selectFrom("rollout_users").select("user_id").where("announced_at", "is not", null).execute()).toEqual([]);
  });

  // The partners' IN lists (the stale users' and the hard bounces' queries) are bounded too: a default
  // start moved is every partner that follows it, and a national network is more than one list's worth.
  it(`reads the ${USERS} partners that follow a moved default start in IN lists of at most ${KEYS_PER_IN_LIST} keys`, async () => {
    const { deps } = unit;
    await setWaveStart(deps.db, null, 9_000_000, 1_000, "test");
    for (let i = 0; i < USERS; i += 1) {
      const user = (await createUser(deps.db, deps.keys, deps.random, 1_000, { loginId: `p${i}`, fullName: "P", partnerNumber: `P${i}`, role: "user", passwordHash: "x", otpEmail: null }))!;
      await deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: `p${i}@dealer.example`, grace_used: 0, announced_at: 5_000_000 }).execute();
    }
    let longest = 0;
    const plugin: KyselyPlugin = { transformQuery: ({ node }) => ((longest = Math.max(longest, longestValueList(node))), node), transformResult: async ({ result }) => result };
    const before = await readPlan(deps.db);
    const told = await forgetStaleAnnouncements({ ...deps, db: deps.db.withPlugin(plugin) }, before, { ...before, defaultStart: 9_500_000 }, null);
    expect(told).toBe(USERS);
    expect(longest).toBeGreaterThan(0);
    expect(longest).toBeLessThanOrEqual(KEYS_PER_IN_LIST);
    expect(await deps.db.selectFrom("rollout_users").select("user_id").where("announced_at", "is not", null).execute()).toEqual([]);
  });
});
