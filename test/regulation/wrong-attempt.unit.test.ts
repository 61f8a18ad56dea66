import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { addressLockInfo } from "../../src/regulation/locks.ts";
import { reserveAttempt } from "../../src/regulation/throttle.ts";
import { countWrongAttempt } from "../../src/regulation/wrong-attempt.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";
import { logStatements } from "../support/statement-log.ts";

/**
 * countWrongAttempt (src/regulation/wrong-attempt.ts) on the domain alone: what a wrong verdict writes
 * (the address's count, the lock audits, the attempt's audit, the holder's mail) is one transaction, so a
 * write in it failing takes the attempt's audit and the mail back with it; the address's count is then
 * written again on its own (countedAlone) and the error goes on, so no failure is a free guess (NIST SP
 * 800-63B 5.2.2). The sender is woken once for a lock's mail, never for an attempt that mails nobody.
 * test/regulation/wrong-attempt.test walks the same on both databases and two instances.
 */
describe("countWrongAttempt (unit tier)", () => {
  const unit = useUnitDeps();
  const now = unit.now;
  let address = 0;
  const ip = () => `198.51.100.${++address}`;

  async function wrong(loginKey: string, at: string, subject: string, user?: Awaited<ReturnType<typeof addUser>>, deviceId: string | null = null) {
    const reservation = await reserveAttempt(unit.db, "password", { loginKey, ip: at, deviceId }, now(), unit.deps.config);
    if (!reservation.ok) throw new Error("refused");
    const entry = { event: "password.failed", actor: null, subject, ip: at, userAgent: null, detail: { reason: "wrong-password" } } as const;
    return countWrongAttempt(unit.deps, reservation, user, entry, now(), loginKey);
  }
  const audits = async (event: string, subject: string) => Number((await unit.db.selectFrom("audit").select((eb) => eb.fn.countAll().as("n")).where("event", "=", event).where("subject", "=", subject).executeTakeFirstOrThrow()).n);
  const mails = async (userId: string) => (await unit.db.selectFrom("outbox").select("id").where("user_id", "=", userId).execute()).length;

  it("an attempt whose audit row is refused: the error goes on, and the address still counts it", async () => {
    await sql`create trigger wrong_attempt_audit_refused before insert on audit when new.subject = 'refused-audit' begin select raise(abort, 'audit refused'); end`.execute(unit.db);
    const at = ip();
    await wrong("refused-1", at, "ok-audit");
    await expect(wrong("refused-2", at, "refused-audit")).rejects.toThrow(/audit refused/);
    await expect(wrong("refused-3", at, "refused-audit")).rejects.toThrow(/audit refused/);
    expect((await addressLockInfo(unit.db, at, now()))?.failures).toBe(3);
    expect(await audits("password.failed", "refused-audit")).toBe(0);
  });

  it("the lock's mail refused: the attempt's audit goes back with it, the count and the lock's audit stay, the sender is not woken", async () => {
    const user = await addUser(unit.deps);
    await sql`create trigger wrong_attempt_mail_refused before insert on outbox when new.user_id = ${sql.lit(user.id)} begin select raise(abort, 'mail refused'); end`.execute(unit.db);
    const at = ip();
    const after = unit.deps.config.lock.after;
    for (let i = 1; i < after; i += 1) await wrong(user.login_key, at, user.login_key, user);
    const before = unit.queued;
    await expect(wrong(user.login_key, at, user.login_key, user)).rejects.toThrow(/mail refused/);
    expect((await addressLockInfo(unit.db, at, now()))?.failures).toBe(after);
    expect(await audits("password.failed", user.login_key)).toBe(after - 1);
    expect(await audits("lock.started", user.login_key)).toBe(1);
    expect(await mails(user.id)).toBe(0);
    expect(unit.queued).toBe(before);
  });

  it("wakes the sender once for the attempt that starts a lock and mails its holder, not for the attempts before it", async () => {
    const user = await addUser(unit.deps);
    const at = ip();
    const after = unit.deps.config.lock.after;
    const before = unit.queued;
    for (let i = 1; i < after; i += 1) expect((await wrong(user.login_key, at, user.login_key, user)).lockStarted).toBe(false);
    expect(unit.queued).toBe(before);
    expect((await wrong(user.login_key, at, user.login_key, user)).lockStarted).toBe(true);
    expect(unit.queued).toBe(before + 1);
    expect(await mails(user.id)).toBe(1);
    expect(await audits("password.failed", user.login_key)).toBe(after);
  });

  it("a lone audit row (a known browser's wrong password: no address counted, no lock started) takes no BEGIN and COMMIT; a new browser's, one of each", async () => {
    const log = logStatements();
    try {
      const known = await log.record(() => wrong("lone-audit", ip(), "lone-audit", undefined, "device-lone"));
      expect(known.filter((s) => /^(begin|commit)/i.test(s.trim()))).toEqual([]);
      expect(known.some((s) => /^insert into "audit"/i.test(s.trim()))).toBe(true);
      const fresh = await log.record(() => wrong("lone-audit", ip(), "lone-audit"));
      expect(fresh.filter((s) => /^(begin|commit)/i.test(s.trim())).map((s) => s.trim().split(/\s/)[0]!.toLowerCase())).toEqual(["begin", "commit"]);
    } finally {
      log.stop();
    }
    expect(await audits("password.failed", "lone-audit")).toBe(2);
  });
});
