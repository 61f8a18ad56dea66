import { sql, type Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import type { Acting } from "../../src/support/acting.ts";
import { administratorsTakingTurns } from "../../src/support/acting.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import type { Database } from "../../src/store/schema.ts";
import { takeTurnsOn } from "../../src/store/take-turns.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useRacers } from "../store/dialects.ts";

const OPERATOR: Acting = { user: null, audit: { actor: "operator", ip: null, userAgent: null } };
const ACTOR = { actor: "operator:test", ip: "cli", userAgent: "test" };
const HASH = "$2b$10$abcdefghijklmnopqrstuuC9o7zZ9Qz1m9N0p0m0c3b8aQ8qUyy5y";

/**
 * An `import --update` row enabling a mover again, beside a console disable of that same user: the
 * console takes the administrators' rows and its target's in id order (actingNowTakingTurns), here the
 * target first and then the administrators, as one statement does when the target's id comes first.
 * Had the import's batch taken every administrator before the user rows of its file (as it did), each
 * would hold what the other waits for and PostgreSQL would end one with "deadlock detected": the import
 * dead mid-file, or support's page a 500. The batch now takes no administrator; the enable runs after it
 * commits, in its own transaction, in the console's order. PostgreSQL only: SQLite's one writer runs
 * the two one after another.
 */
describe("import --update enabling a mover beside a console action on the same user, on postgres", () => {
  const race = useRacers("postgres", "mover_lock_order");

  it("the batch takes no administrator's row: the console's transaction and the import both go through, and the mover is enabled at B", { timeout: 30_000 }, async () => {
    const [a, b] = await race.pair();
    await addUser(a, { role: "admin", partnerNumber: "0900" });
    const mover = await addUser(a, { partnerNumber: "0700" });
    await disableUser(a, OPERATOR, mover.id, { bySync: true });
    const row = { line: 2, loginId: mover.login_id, fullName: mover.full_name, partnerNumber: "0800", role: "user" as const, email: null, passwordHash: HASH };

    let imported: Promise<unknown> | null = null;
    const consoleSide = b.db
      .transaction()
      .execute(async (tx) => {
        // The console's statement, the target's row reached first …
        await takeTurnsOn(tx, b.dialect, { table: "users", id: mover.id });
        const holder = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
        imported = storeImportedUsers(a, [row], { update: true, actor: ACTOR }).then(
          (report) => report,
          (error: unknown) => error,
        );
        await waitUntilBlockedBy(b.db, holder);
        // … then every enabled administrator's.
        await administratorsTakingTurns(tx, b.dialect);
        return "committed";
      })
      .catch((error: unknown) => String(error));

    expect(await consoleSide).toBe("committed");
    const report = await imported!;
    expect(report instanceof Error ? String(report) : (report as { enabled: { user: { login_id: string } }[] }).enabled.map((e) => e.user.login_id)).toEqual([mover.login_id]);
    expect(await findUserById(a.db, mover.id)).toMatchObject({ partner_number: "0800", disabled_at: null });
  });
});

/** Until another backend waits for a lock that `holder` has (pg_blocking_pids), polled without a clock of ours. */
async function waitUntilBlockedBy(db: Kysely<Database>, holder: number): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where ${holder} = any(pg_blocking_pids(pid))`.execute(db);
    if (waiting.rows[0]!.n > 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error("the import never waited for the mover's row");
}
