import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forgetUnusedAddresses } from "../../src/bounce/forget.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { createUser } from "../../src/users/users.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

/**
 * The retention job forgets old bounce records 500 at a time (retention/cleanup.ts), and erasure the
 * addresses of one person: each batch asks which of its addresses an account still has. With 20,000
 * accounts a statement that reads every account per batch is 40 full scans of users per 20,000
 * records; each must find the holders through an index instead.
 */
describe.each(DIALECTS)("which bounce records may go, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  const tag = `fp${Date.now().toString(36)}${dialect}`;
  const keep = [`otp-${tag}@dealer.example`, `pending-${tag}@dealer.example`, `contact-${tag}@dealer.example`];
  const erased = `erased-${tag}@dealer.example`;
  const unused = `unused-${tag}@dealer.example`;
  let erasedId = "";

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `forget_plan_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
    const add = async (login: string, otpEmail: string | null) =>
      (await createUser(store.db, TEST_KEYS, cryptoRandom, 1_000, { loginId: `${login}-${tag}`, fullName: login, partnerNumber: "7", role: "user", passwordHash: "x", otpEmail }))!;
    // Stored as typed (case, surrounding spaces): the comparison is lower(trim(...)).
    await add("holder", `  OTP-${tag}@Dealer.Example `);
    const pending = await add("pending", null);
    await store.db.updateTable("users").set({ pending_email: ` Pending-${tag}@dealer.example` }).where("id", "=", pending.id).execute();
    const contact = await add("contact", null);
    await store.db.insertInto("rollout_users").values({ user_id: contact.id, contact_email: `CONTACT-${tag}@dealer.example`, grace_used: 0, announced_at: null }).execute();
    erasedId = (await add("erased", erased)).id;
    const rows = [...keep, erased, unused].map((address_key) => ({ address_key, undeliverable_at: 1, undeliverable_reason: "550", soft_bounces: 0, updated_at: 1 }));
    await store.db.insertInto("mail_addresses").values(rows).execute();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("finds the accounts holding a batch's addresses through an index, not by reading every account", async () => {
    const { plugin, nodes } = captureStatements();
    const removed = await forgetUnusedAddresses(store.db.withPlugin(plugin), [...keep, erased, unused], erasedId);
    expect(removed).toBe(2);
    const left = await store.db.selectFrom("mail_addresses").select("address_key").where("address_key", "in", [...keep, erased, unused]).orderBy("address_key").execute();
    expect(left.map((r) => r.address_key)).toEqual([...keep].sort());
    expect(nodes.length).toBeGreaterThan(0);
    const reads = await Promise.all(nodes.map((node) => fullReads(store, node, ["users", "rollout_users", "mail_addresses"])));
    expect(reads.flat()).toEqual([]);
  });
});
