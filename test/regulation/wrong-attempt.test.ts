import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressLockInfo } from "../../src/regulation/locks.ts";
import { reserveAttempt } from "../../src/regulation/throttle.ts";
import { countWrongAttempt } from "../../src/regulation/wrong-attempt.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { createUser } from "../../src/users/users.ts";
import { DIALECTS, openInstances } from "../store/dialects.ts";

/**
 * countWrongAttempt (issue 17) writes a wrong attempt's address count, its lock audits, its own audit and
 * the lock mail in one transaction. The address's count is what stops password spraying (NIST SP
 * 800-63B 5.2.2): a write after it failing (an audit row refused, a statement cut by the database's
 * bound, a dropped connection) must not roll that count back, or each such error is a free guess on
 * the address. Before the transaction the count had its own commit; it must still survive.
 */
describe.each(DIALECTS)("a wrong attempt's address count survives a failed write after it (%s)", (dialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 1, "wrongattempt");
    const db = t.deps[0]!.db;
    // A real refusal by the database, for one subject only: the audit insert fails as a write can.
    if (dialect === "sqlite") {
      await sql`create trigger audit_refused before insert on audit when new.subject = 'refused' begin select raise(abort, 'audit refused'); end`.execute(db);
    } else {
      await sql`create function audit_refused() returns trigger language plpgsql as $$ begin if new.subject = 'refused' then raise exception 'audit refused'; end if; return new; end $$`.execute(db);
      await sql`create trigger audit_refused before insert on audit for each row execute function audit_refused()`.execute(db);
    }
  });
  afterAll(async () => t.close());

  it("a wrong password whose audit row is refused still counts on its address", async () => {
    const deps = t.deps[0]!;
    const now = t.clock.now();
    const ip = "198.51.100.77";
    for (const [i, subject] of (["ok", "refused", "refused"] as const).entries()) {
      const reservation = await reserveAttempt(deps.db, "password", { loginKey: `login-${i}`, ip }, now, deps.config);
      if (!reservation.ok) throw new Error("refused");
      const entry = { event: "password.failed", actor: null, subject, ip, userAgent: null, detail: { reason: "unknown-login-id" } } as const;
      const counted = countWrongAttempt(deps, reservation, undefined, entry, now);
      if (subject === "ok") await counted;
      else await expect(counted).rejects.toThrow(/audit refused/);
    }
    // Three wrong passwords from this address: three counted, whatever became of their audit rows.
    expect((await addressLockInfo(deps.db, ip, now))?.failures).toBe(3);
  });
});

/**
 * The transaction holds one row, the address's counter, and only inserts after it (audit and outbox
 * have no foreign key or unique key another writer could hold): no order of two such transactions, or
 * of one and a reservation, can wait in a circle. Proved under load on two instances (two pools on
 * PostgreSQL): every attempt counted once, every lock audited and mailed once, none failing.
 */
describe.each(DIALECTS)("wrong attempts at once from one address on two instances (%s)", (dialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 2, "wrongattemptrace");
  });
  afterAll(async () => t.close());

  it("40 wrong passwords of 8 login IDs at once: 40 counted on the address, 8 locks each audited and mailed once", async () => {
    const now = t.clock.now();
    const ip = "198.51.100.88";
    const first = t.deps[0]!;
    const users = await Promise.all(
      Array.from({ length: 8 }, async (_, i) =>
        (await createUser(first.db, first.keys, cryptoRandom, now, { loginId: `race-${i}`, fullName: "R", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: `race-${i}@dealer.example` }))!,
      ),
    );
    const attempts = users.flatMap((user, u) =>
      Array.from({ length: 5 }, async (_, k) => {
        // On SQLite one instance: two connections in one process would wait for each other inside a synchronous call (useRacers).
        const deps = t.deps[dialect === "sqlite" ? 0 : (u + k) % 2]!;
        const reservation = await reserveAttempt(deps.db, "password", { loginKey: user.login_id, ip }, now, deps.config);
        if (!reservation.ok) throw new Error("refused");
        const entry = { event: "password.failed", actor: null, subject: user.login_id, ip, userAgent: null, detail: { reason: "wrong-password" } } as const;
        return countWrongAttempt(deps, reservation, user, entry, now);
      }),
    );
    const results = await Promise.allSettled(attempts);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect((await addressLockInfo(first.db, ip, now))?.failures).toBe(40);
    const events = await first.db.selectFrom("audit").select(({ fn }) => ["event", fn.countAll<number | string>().as("n")]).where("ip", "=", ip).groupBy("event").orderBy("event").execute();
    expect(events.map((e) => [e.event, Number(e.n)])).toEqual([["lock.started", 8], ["password.failed", 40]]);
    const mails = await first.db.selectFrom("outbox").select(({ fn }) => fn.countAll<number | string>().as("n")).where("kind", "=", "lock").executeTakeFirstOrThrow();
    expect(Number(mails.n)).toBe(8);
  });
});
