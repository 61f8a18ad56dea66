import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { CONSOLE_ACTIONS_LIMIT, CONSOLE_ACTIONS_WINDOW_MS, countConsoleAction, settleConsoleAction } from "../../src/regulation/console-actions.ts";
import type { Counted } from "../../src/regulation/counter.ts";
import { useUnitStore } from "../support/unit-store.ts";

/**
 * Support's limit on console changes (src/regulation/console-actions.ts) at its edges, on the store
 * alone: the 60th change passes and starts a pause of exactly one window, the 61st waits until it
 * ends; the window restarts the count; a refused action gives its count back (and lifts the pause it
 * started); the change that reached the limit is audited once. test/console/write-limit.test.ts walks
 * the same rule through the console's routes (integration tier).
 */
describe("support's console changes: 60 per 10 minutes (unit tier)", () => {
  const unit = useUnitStore();
  const db = () => unit.db;
  const now = unit.now;
  const person = () => unit.fresh("support-person");
  const actor = (login: string) => ({ actor: login, ip: "192.0.2.7", userAgent: "console" });

  async function count(userId: string): Promise<Counted> {
    const result = await countConsoleAction(db(), userId, now());
    if (!result.ok) throw new Error(`refused, until ${result.until}`);
    return result.counted;
  }

  /** `n` changes made (each settled as made), the last one's count returned. */
  async function makeChanges(userId: string, n: number): Promise<Counted> {
    let last: Counted | undefined;
    for (let i = 0; i < n; i += 1) {
      last = await count(userId);
      await settleConsoleAction(db(), last, true, actor(userId), now());
    }
    return last!;
  }

  const limitAudits = async (login: string) => (await queryAudit(db(), { event: "console.limit-reached", limit: 1000 })).filter((e) => e.actor === login);

  it("is sixty in ten minutes", () => {
    expect(CONSOLE_ACTIONS_LIMIT).toBe(60);
    expect(CONSOLE_ACTIONS_WINDOW_MS).toBe(600_000);
  });

  it("lets the 60th change through, starting a pause of one window; the 61st is refused until the pause ends, then passes", async () => {
    const id = person();
    const t0 = now();
    const before = await makeChanges(id, 59);
    expect(before).toMatchObject({ key: `console:${id}`, failures: 59, startedLock: false, lockedUntil: 0 });
    unit.clock.advance(1000);
    const sixtieth = await count(id);
    expect(sixtieth).toMatchObject({ failures: 60, startedLock: true, lockedUntil: now() + CONSOLE_ACTIONS_WINDOW_MS, windowStartedAt: t0 });
    await settleConsoleAction(db(), sixtieth, true, actor(id), now());
    const pausedAt = now();

    expect(await countConsoleAction(db(), id, now())).toEqual({ ok: false, until: pausedAt + CONSOLE_ACTIONS_WINDOW_MS });
    unit.clock.set(pausedAt + CONSOLE_ACTIONS_WINDOW_MS - 1);
    expect(await countConsoleAction(db(), id, now())).toEqual({ ok: false, until: pausedAt + CONSOLE_ACTIONS_WINDOW_MS });
    // A refusal is not counted and does not extend the pause.
    expect(await unit.throttle(`console:${id}`)).toMatchObject({ failures: 60, locked_until: pausedAt + CONSOLE_ACTIONS_WINDOW_MS, hard_locked: 0 });
    unit.clock.set(pausedAt + CONSOLE_ACTIONS_WINDOW_MS);
    // The window (started at t0) has passed too: a new count of one, no pause.
    expect(await count(id)).toMatchObject({ failures: 1, startedLock: false, lockedUntil: 0, windowStartedAt: now() });
  });

  it("counts within a window of exactly ten minutes from its first change", async () => {
    const id = person();
    const t0 = now();
    await makeChanges(id, 59);
    unit.clock.set(t0 + CONSOLE_ACTIONS_WINDOW_MS - 1);
    // Still the same window: this one is the 60th.
    const last = await count(id);
    expect(last).toMatchObject({ failures: 60, startedLock: true, windowStartedAt: t0 });
    await settleConsoleAction(db(), last, false, actor(id), now()); // refused by the action: given back

    const other = person();
    const t1 = now();
    await makeChanges(other, 59);
    unit.clock.set(t1 + CONSOLE_ACTIONS_WINDOW_MS);
    // The window has ended: the count starts again, far from the limit.
    expect(await count(other)).toMatchObject({ failures: 1, startedLock: false, windowStartedAt: t1 + CONSOLE_ACTIONS_WINDOW_MS });
  });

  it("keeps each person's count their own", async () => {
    const busy = person();
    await makeChanges(busy, CONSOLE_ACTIONS_LIMIT);
    expect((await countConsoleAction(db(), busy, now())).ok).toBe(false);
    const colleague = person();
    expect(await count(colleague)).toMatchObject({ key: `console:${colleague}`, failures: 1 });
  });

  it("gives back the count of a refused action: seventy refusals leave the whole limit", async () => {
    const id = person();
    for (let i = 0; i < 70; i += 1) {
      const counted = await count(id);
      expect(counted.failures).toBe(1);
      await settleConsoleAction(db(), counted, false, actor(id), now());
    }
    expect(await unit.throttle(`console:${id}`)).toMatchObject({ failures: 0, locked_until: 0 });
    await makeChanges(id, CONSOLE_ACTIONS_LIMIT);
    expect((await countConsoleAction(db(), id, now())).ok).toBe(false);
    expect(await limitAudits(id)).toHaveLength(1);
  });

  it("lifts the pause a refused 60th started, and audits nothing for it", async () => {
    const id = person();
    await makeChanges(id, 59);
    const sixtieth = await count(id);
    expect(sixtieth.startedLock).toBe(true);
    await settleConsoleAction(db(), sixtieth, false, actor(id), now());
    expect(await unit.throttle(`console:${id}`)).toMatchObject({ failures: 59, locked_until: 0 });
    expect(await limitAudits(id)).toHaveLength(0);
    // The next change is the 60th again, and this one is made.
    const again = await count(id);
    expect(again).toMatchObject({ failures: 60, startedLock: true });
    await settleConsoleAction(db(), again, true, actor(id), now());
    expect(await unit.throttle(`console:${id}`)).toMatchObject({ failures: 60, locked_until: now() + CONSOLE_ACTIONS_WINDOW_MS });
  });

  it("audits the change that reached the limit, once, with the limit, the window and the pause's end", async () => {
    const id = person();
    await makeChanges(id, 59);
    expect(await limitAudits(id)).toHaveLength(0);
    const sixtieth = await count(id);
    await settleConsoleAction(db(), sixtieth, true, actor(id), now());
    const audits = await limitAudits(id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      time: now(),
      event: "console.limit-reached",
      actor: id,
      subject: id,
      ip: "192.0.2.7",
      userAgent: "console",
      detail: { limit: 60, windowMs: 600_000, until: now() + CONSOLE_ACTIONS_WINDOW_MS },
    });
    // A made change that started no pause is not audited.
    const colleague = person();
    await makeChanges(colleague, 1);
    expect(await limitAudits(colleague)).toHaveLength(0);
  });

  it("answers a refusal whose pause has already ended (or is no pause) with 'now', never a time past", async () => {
    const id = person();
    // A counter refused by a lock of its own kind but with no end in the future (a hard lock, which
    // this policy never sets; the read after a pause ended between the two statements looks the same).
    await unit.putThrottle(`console:${id}`, { failures: 60, hardLocked: true, lockedUntil: now() - 5000, windowStartedAt: now() });
    expect(await countConsoleAction(db(), id, now())).toEqual({ ok: false, until: now() });
  });
});
