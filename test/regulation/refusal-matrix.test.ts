import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counterKey, reserveAttempt, SIGN_IN_KINDS, type FailureKind, type Pause, type Reservation, type Subject } from "../../src/regulation/throttle.ts";
import { DIALECTS, openInstances } from "../store/dialects.ts";

/**
 * Which locks refuse which attempt (SPEC "Locks"), every subject against every lock it could meet, on
 * both databases: since 3ff46db the other counters' locks are the condition of the reservation's own
 * statement instead of a read before it. The expectation below is the rule as the read before it
 * applied it (5ba0162 throttle.ts reserveAttempt), written out apart from src: a hard lock on any of
 * the attempt's counters but the address's refuses it (but the login ID's code counter's at the password
 * and reset steps: told once what was typed is right, hard-lock-enumeration.test); a timed lock refuses a new browser on any of
 * them, a known browser on its device's own only. A refused attempt changes no counter at all.
 */
const SETTINGS = {
  lock: { after: 2, baseMs: 1000, maxMs: 8000, codeHardLock: 3 },
  address: { lockAfter: 3, windowMs: 10_000, trustedNetworks: ["10.0.0.0/8"] },
  deviceLockAfter: 3,
};
const KINDS: readonly FailureKind[] = ["password", "code", "reset"];
type Browser = "new" | "trusted" | "device";
type Lock = { slot: Slot; hard: boolean };
type Slot = `${FailureKind}:id` | `${FailureKind}:dev` | "ip";
const SLOTS: readonly Slot[] = ["password:id", "code:id", "reset:id", "password:dev", "code:dev", "reset:dev", "ip"];

/** Each lock alone, and each pair (the pause that ends last; a hard lock before any timed one). */
const SINGLES: Lock[] = SLOTS.flatMap((slot) => [{ slot, hard: false }, { slot, hard: true }]);
const SEEDS: Lock[][] = [[], ...SINGLES.map((l) => [l]), ...SINGLES.flatMap((a, i) => SINGLES.slice(i + 1).filter((b) => b.slot !== a.slot).map((b) => [a, b]))];

function keyOf(slot: Slot, s: Required<Subject>, deviceId: string): string {
  if (slot === "ip") return counterKey.address(s.ip);
  const [kind, where] = slot.split(":") as [FailureKind, "id" | "dev"];
  return where === "id" ? counterKey.loginId(kind, s.loginKey) : counterKey.device(kind, deviceId);
}

/** The rule, as before the merge: which counters an attempt meets, and the pause that refuses it. */
function expected(kind: FailureKind, browser: Browser, s: Required<Subject>, rows: Map<string, { until: number; hard: boolean }>, now: number): Pause[] {
  const device = browser === "device" ? s.deviceId : null;
  const primary = device ? counterKey.device(kind, device) : counterKey.loginId(kind, s.loginKey);
  const others =
    kind === "reset"
      ? SIGN_IN_KINDS.map((k) => counterKey.loginId(k, s.loginKey))
      : device
        ? [counterKey.device(kind === "password" ? "code" : "password", device), counterKey.loginId("code", s.loginKey)]
        : [counterKey.loginId(kind === "password" ? "code" : "password", s.loginKey)];
  const address = browser === "new" ? counterKey.address(s.ip) : null;
  const keys = [primary, ...others, ...(address ? [address] : [])];
  // Two locks until unlocked (the device's and the login ID's): either is named, as before (the read's row order).
  // The login ID's code counter's locks (until unlocked, or timed) meet the password and reset steps once right, after the reservation (lockToldOnceRight).
  const onceRight = kind === "code" ? null : counterKey.loginId("code", s.loginKey);
  const hard = keys.filter((k) => k !== address && k !== onceRight && rows.get(k)?.hard);
  if (hard.length > 0) return hard.map((k) => ({ scope: k.includes(":dev:") ? "device" : "login-id", until: null }));
  const timed = keys.filter((k) => k !== onceRight && (rows.get(k)?.until ?? 0) > now && (!device || k.includes(":dev:"))).sort((a, b) => rows.get(b)!.until - rows.get(a)!.until)[0];
  if (timed) return [{ scope: timed.startsWith("ip:") ? "address" : timed.includes(":dev:") ? "device" : "login-id", until: rows.get(timed)!.until }];
  return [];
}

describe.each(DIALECTS)("which locks refuse which attempt, in the reservation's statement (%s)", (dialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 2, "refusal_matrix");
  });
  afterAll(async () => t.close());

  it("refuses exactly as the read before the reservation did, for every subject, kind and lock (alone and in pairs), and a refusal writes nothing", async () => {
    const db = t.deps[0]!.db;
    const now = t.clock.now();
    // Every case has counters of its own (its login ID, device and address are numbered): the seeds of
    // all cases go in together and their counters are read together, before the reservations and after
    // them, instead of several statements per case (891 cases; on PostgreSQL each statement is a round
    // trip). Each reservation is still its own statement, and its refusal is still checked against what
    // the case's own counters held just before it, since no other case's reservation touches them.
    let n = 0;
    const cases = [];
    const seeded = [];
    for (const browser of ["new", "trusted", "device"] as const) {
      for (const kind of KINDS) {
        for (const seed of SEEDS) {
          n += 1;
          const deviceId = `dev-${n}`;
          const ip = browser === "trusted" ? `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}` : `198.${(n >> 16) + 18}.${(n >> 8) & 255}.${n & 255}`;
          const s: Required<Subject> = { loginKey: `matrix-${n}`, ip, deviceId };
          const rows = new Map<string, { until: number; hard: boolean }>();
          for (const [i, lock] of seed.entries()) {
            const key = keyOf(lock.slot, s, deviceId);
            // A hard lock whose timed part ended; timed locks ending apart, so the last one shows.
            const until = lock.hard ? 0 : now + 1000 * (i + 1) + SLOTS.indexOf(lock.slot);
            rows.set(key, { until, hard: lock.hard });
            seeded.push({ key, failures: 3, locked_until: until, hard_locked: lock.hard ? 1 : 0, updated_at: now - 1, window_started_at: lock.slot === "ip" ? now - 1 : 0 });
          }
          const mine = [...SLOTS.map((slot) => keyOf(slot, s, deviceId)), counterKey.loginId(kind, s.loginKey)];
          const label = `${browser} ${kind} [${seed.map((l) => `${l.slot}${l.hard ? "!" : ""}`).join(", ")}]`;
          cases.push({ browser, kind, s, rows, mine, label });
        }
      }
    }
    for (let i = 0; i < seeded.length; i += 200) await db.insertInto("throttles").values(seeded.slice(i, i + 200)).execute();
    const allKeys = cases.flatMap((c) => c.mine);
    const before = await snapshots(db, allKeys);
    const mismatches: string[] = [];
    const refusedCases = [];
    for (const c of cases) {
      const subject: Subject = { loginKey: c.s.loginKey, ip: c.s.ip, deviceId: c.browser === "device" ? c.s.deviceId : null };
      const got: Reservation = await reserveAttempt(db, c.kind, subject, now, SETTINGS);
      const want = expected(c.kind, c.browser, c.s, c.rows, now);
      const gotPause = got.ok ? null : got.pause;
      const right = want.length === 0 ? gotPause === null : want.some((w) => JSON.stringify(w) === JSON.stringify(gotPause));
      if (!right) mismatches.push(`${c.label}: ${JSON.stringify(gotPause)} instead of ${JSON.stringify(want)}`);
      if (!got.ok) refusedCases.push(c);
    }
    const after = await snapshots(db, allKeys);
    for (const c of refusedCases) {
      const [was, is] = [JSON.stringify(c.mine.map((k) => before.get(k) ?? null)), JSON.stringify(c.mine.map((k) => after.get(k) ?? null))];
      if (is !== was) mismatches.push(`${c.label}: a refusal wrote ${is} over ${was}`);
    }
    expect(mismatches).toEqual([]);
    // Every subject met both outcomes: refusals and attempts let through.
    const refused = refusedCases.length;
    expect(refused).toBeGreaterThan(100);
    expect(n - refused).toBeGreaterThan(100);
  }, 120_000);

  it.each([
    ["password", "new"],
    ["code", "new"],
    ["reset", "new"],
    ["password", "device"],
    ["code", "device"],
  ] as [FailureKind, Browser][])("40 %s attempts at once (%s browser), on two instances: exactly the threshold reserved, the rest refused with the lock", async (kind, browser) => {
    const now = t.clock.now();
    const s: Subject = { loginKey: `race-${kind}-${browser}`, ip: `198.51.100.${kind.length}${browser.length}`, deviceId: browser === "device" ? `race-dev-${kind}` : null };
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => reserveAttempt(t.deps[i % 2]!.db, kind, s, now, SETTINGS)));
    const after = browser === "device" ? SETTINGS.deviceLockAfter : SETTINGS.lock.after;
    expect(all.filter((r) => r.ok)).toHaveLength(after);
    const key = browser === "device" ? counterKey.device(kind, s.deviceId!) : counterKey.loginId(kind, s.loginKey);
    const [row] = await snapshot(t.deps[0]!.db, [key]);
    expect(row).toMatchObject({ failures: after, locked_until: now + SETTINGS.lock.baseMs });
    // A device's wrong codes reach FAMOS_CODE_HARD_LOCK (3 here) at its threshold: locked until unlocked.
    const until = kind !== "password" && after >= SETTINGS.lock.codeHardLock ? null : now + SETTINGS.lock.baseMs;
    for (const r of all) if (!r.ok) expect(r.pause).toEqual({ scope: browser === "device" ? "device" : "login-id", until });
  });
});

async function snapshot(db: Awaited<ReturnType<typeof openInstances>>["deps"][number]["db"], keys: string[]) {
  const rows = await db.selectFrom("throttles").selectAll().where("key", "in", keys).orderBy("key").execute();
  return rows.map((r) => ({ ...r, failures: Number(r.failures), locked_until: Number(r.locked_until), hard_locked: Number(r.hard_locked), updated_at: Number(r.updated_at), window_started_at: Number(r.window_started_at) }));
}

/** The rows of `keys` by key, read in a few statements (snapshot's form). */
async function snapshots(db: Awaited<ReturnType<typeof openInstances>>["deps"][number]["db"], keys: string[]) {
  const rows = new Map<string, Awaited<ReturnType<typeof snapshot>>[number]>();
  for (let i = 0; i < keys.length; i += 1000) for (const row of await snapshot(db, keys.slice(i, i + 1000))) rows.set(row.key, row);
  return rows;
}
