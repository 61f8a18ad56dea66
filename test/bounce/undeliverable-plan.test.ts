import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { undeliverableUsers } from "../../src/bounce/addresses.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { createUser } from "../../src/users/users.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { captureStatements, readsPerRow } from "../support/statement-plans.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

/**
 * The console's "Needs attention" lists the users whose OTP email, or the address waiting for its
 * code, cannot be delivered to. Bounce records outlive the accounts that had them (until
 * FAMOS_MAIL_KEEP), so most may be nobody's: matching each against every account (an OR of two
 * columns in the join, which no index serves) made the page read users once per record — on
 * PostgreSQL 31 s with 20,000 users and 2,050 records. Each record must find its users through an index.
 */
describe.each(DIALECTS)("the undeliverable users of Needs attention, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  const tag = `ud${Date.now().toString(36)}${dialect}`;

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `undeliverable_plan_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
    const add = async (login: string, otpEmail: string | null) =>
      (await createUser(store.db, TEST_KEYS, cryptoRandom, 1_000, { loginId: `${login}-${tag}`, fullName: login, partnerNumber: "7", role: "user", passwordHash: "x", otpEmail }))!;
    await add("confirmed", `Confirmed-${tag}@Dealer.Example`);
    const waiting = await add("waiting", null);
    await store.db.updateTable("users").set({ pending_email: `waiting-${tag}@dealer.example` }).where("id", "=", waiting.id).execute();
    await add("fine", `fine-${tag}@dealer.example`);
    const record = (key: string, at: number) => ({ address_key: key, undeliverable_at: at, undeliverable_reason: `550 ${at}`, soft_bounces: 0, updated_at: at });
    await store.db
      .insertInto("mail_addresses")
      .values([record(`confirmed-${tag}@dealer.example`, 3_000), record(`waiting-${tag}@dealer.example`, 2_000), record(`left-${tag}@dealer.example`, 4_000)])
      .execute();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("finds each record's users through an index, newest bounce first", async () => {
    const { plugin, nodes } = captureStatements();
    const found = await undeliverableUsers(store.db.withPlugin(plugin));
    expect(found.map((u) => [u.loginId, u.email, u.confirmed, u.at, u.reason])).toEqual([
      [`confirmed-${tag}`, `Confirmed-${tag}@Dealer.Example`, true, 3_000, "550 3000"],
      [`waiting-${tag}`, `waiting-${tag}@dealer.example`, false, 2_000, "550 2000"],
    ]);
    expect(nodes.length).toBeGreaterThan(0);
    const reads = await Promise.all(nodes.map((node) => readsPerRow(store, node, ["users"])));
    expect(reads.flat()).toEqual([]);
  });
});
