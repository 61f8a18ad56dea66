import { loginCounterKey } from "../support/login-counter.ts";
import type { Deps } from "../../src/app/deps.ts";
import { recordAudit } from "../../src/audit/audit.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { createUser } from "../../src/users/users.ts";

const DAY = 86_400_000;

/**
 * A dealer network of known numbers for the Rollout page:
 *
 * | partner | users | enrolled | pending | not started | locked |
 * | 1001    | 10    | 6        | 2       | 2           | 1      |
 * | 1002    | 4     | 1        | 0       | 3           | 1 (until support unlocks) |
 * | 1003    | 5     | 0        | 0       | 5           | 0      |
 * | all     | 19    | 7        | 2       | 10          | 2      |
 *
 * Enrolments confirmed: 3 today, 1 yesterday, 2 three days ago (audit trail). 1001 starts on
 * 01/12/2026 07:00, everyone else on the default 08/12/2026 07:00 (Europe/London).
 */
export async function seedRolloutNetwork(deps: Deps, prefix = "r"): Promise<void> {
  const now = deps.clock.now();
  const add = async (partner: string, n: number, state: "enrolled" | "pending" | "none") => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1) {
      const loginId = `${prefix}${partner}-${state}-${i}`;
      const user = (await createUser(deps.db, deps.keys, deps.random, now, {
        loginId,
        fullName: `Person ${loginId}`,
        partnerNumber: partner,
        role: "user",
        passwordHash: "$2b$10$abcdefghijklmnopqrstuuC9o7zZ9Qz1m9N0p0m0c3b8aQ8qUyy5y",
        otpEmail: state === "enrolled" ? `${loginId}@dealer.example` : null,
      }))!;
      if (state === "pending") await deps.db.updateTable("users").set({ pending_email: `${loginId}@dealer.example` }).where("id", "=", user.id).execute();
      ids.push(loginId);
    }
    return ids;
  };
  const lock = async (loginId: string, kind: "password" | "code", hard: boolean) => {
    const key = loginCounterKey(kind, loginId);
    await deps.db.insertInto("throttles").values({ key, failures: hard ? 100 : 5, locked_until: hard ? 0 : now + 60_000, hard_locked: hard ? 1 : 0, updated_at: now }).execute();
  };

  await add("1001", 6, "enrolled");
  await add("1001", 2, "pending");
  const notStarted1001 = await add("1001", 2, "none");
  await lock(notStarted1001[0]!, "password", false);
  // A lock that ran out long ago is no lock.
  await deps.db.insertInto("throttles").values({ key: loginCounterKey("password", notStarted1001[1]!), failures: 5, locked_until: now - 1, hard_locked: 0, updated_at: now }).execute();
  const enrolled1002 = await add("1002", 1, "enrolled");
  await lock(enrolled1002[0]!, "code", true);
  await add("1002", 3, "none");
  await add("1003", 5, "none");
  // A login ID no account has, locked (a stranger spraying login IDs): no account's lock.
  await lock(`${prefix}nobody-has-this`, "password", false);
  await lock(`${prefix}nobody-either`, "code", true);

  for (const [daysAgo, count] of [[0, 3], [1, 1], [3, 2]] as const) {
    for (let i = 0; i < count; i += 1) {
      await recordAudit(deps.db, now - daysAgo * DAY - i * 60_000, { event: "enrolment.confirmed", actor: "x", subject: "x", ip: null, userAgent: null });
    }
  }
  await setWaveStart(deps.db, "1001", Date.UTC(2026, 11, 1, 7, 0), now, "test");
  await setWaveStart(deps.db, null, Date.UTC(2026, 11, 8, 7, 0), now, "test");
}
