import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { personalStrings } from "../../src/account/erase-traces.ts";
import { pseudonymiseAudit } from "../../src/audit/rewrite.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { createUser, type User } from "../../src/users/users.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

/**
 * `famos user delete --erase` finds the person's events by login ID as actor or subject
 * (lower(trim(...))): in its own reads and in migration 003's pseudonymise function, which runs once
 * more per address she had. Each must reach her events through an index, not read the whole trail
 * (months of 20,000 people's sign-ins) inside the erasure's transaction, on SQLite under the write
 * lock every sign-in waits for.
 */
describe.each(DIALECTS)("erasure's reads of the audit trail, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  let user: User;
  const tag = `ep${Date.now().toString(36)}${dialect}`;

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `erase_plan_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
    user = (await createUser(store.db, TEST_KEYS, cryptoRandom, 1_000, { loginId: `Leaver-${tag}`, fullName: "Leaver", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: `leaver-${tag}@dealer.example` }))!;
    const event = (subject: string, detail: object) => ({ time: 2_000, event: "email.changed", actor: subject, subject, ip: "192.0.2.1", user_agent: "ua", detail: JSON.stringify(detail) });
    await store.db.insertInto("audit").values([event(` leaver-${tag} `, { from: `old-${tag}@dealer.example` }), event(`other-${tag}`, {})]).execute();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("reads her events through an index, in erasure's own statements and in the pseudonymise function's", async () => {
    const { plugin, nodes } = captureStatements();
    const db = store.db.withPlugin(plugin);
    const strings = await personalStrings(db, user);
    expect(strings).toContain(`old-${tag}@dealer.example`);
    await store.db.transaction().execute(async (tx) => {
      expect(await pseudonymiseAudit(tx.withPlugin(plugin), store.dialect, user.login_id, `erased-${tag}`, strings)).toBe(1);
    });
    // The statement of famos_audit_pseudonymise (PostgreSQL) and of its trigger (SQLite), frozen in migration 003.
    const login = user.login_id;
    const body = sql`update audit set ip = null where lower(trim(subject)) = lower(${login}) or lower(trim(actor)) = lower(${login})`.compile(store.db);
    const reads = await Promise.all([...nodes, body.query].map((node) => fullReads(store, node, ["audit"])));
    expect(reads.flat()).toEqual([]);
  });
});
