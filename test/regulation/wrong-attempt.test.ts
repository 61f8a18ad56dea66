import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressLockInfo } from "../../src/regulation/locks.ts";
import { reserveAttempt } from "../../src/regulation/throttle.ts";
import { countWrongAttempt } from "../../src/regulation/wrong-attempt.ts";
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
