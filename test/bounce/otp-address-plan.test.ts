import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressProblemsAndHolders } from "../../src/bounce/addresses.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { createUser } from "../../src/users/users.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

/**
 * OTP capture asks, on every page and status poll, what bounces said of the code's address and how
 * many other enabled login IDs have it as their OTP email: one statement since issue 17's round 31
 * (addressProblemsAndHolders). It must find the address by its key and the holders through
 * users_otp_email_lower, never by reading every account or every bounce record.
 */
describe.each(DIALECTS)("OTP capture's address read, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  const tag = `oap${Date.now().toString(36)}${dialect}`;
  const shared = `Shared-${tag}@Dealer.Example`;
  const alone = `alone-${tag}@dealer.example`;
  let me = "";

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `otp_address_plan_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
    const add = async (login: string, otpEmail: string | null) =>
      (await createUser(store.db, TEST_KEYS, cryptoRandom, 1_000, { loginId: `${login}-${tag}`, fullName: login, partnerNumber: "7", role: "user", passwordHash: "x", otpEmail }))!;
    me = (await add("me", shared)).id;
    await add("colleague", shared.toLowerCase());
    const leaver = await add("leaver", shared.toUpperCase());
    await store.db.updateTable("users").set({ disabled_at: 2_000 }).where("id", "=", leaver.id).execute();
    await add("alone", alone);
    await store.db.insertInto("mail_addresses").values({ address_key: shared.toLowerCase(), undeliverable_at: 5_000, undeliverable_reason: "550 5.1.1", soft_bounces: 0, updated_at: 5_000 }).execute();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("answers the address's bounces and its other enabled holders (case aside) in one statement, through indexes", async () => {
    const { plugin, nodes } = captureStatements();
    const db = store.db.withPlugin(plugin);
    const first = await addressProblemsAndHolders(db, shared, me);
    expect(first.otherHolders).toBe(1); // the colleague; not the leaver (disabled), not herself
    expect(first.problems).toMatchObject({ undeliverableAt: 5_000, undeliverableReason: "550 5.1.1", softBounces: 0, mailboxFull: false });
    // An address that never bounced: no problems, and nobody else holds it.
    expect(await addressProblemsAndHolders(db, ` ${alone} `, me)).toEqual({ problems: null, otherHolders: 0 });
    // The statement and its subqueries as Kysely built them once (stand-ins for the call's values).
    expect(nodes.length).toBeGreaterThan(0);
    const args = [shared.toLowerCase(), shared.toLowerCase(), me];
    const reads = await Promise.all(nodes.map((node) => fullReads(store, node, ["users", "mail_addresses"], args)));
    expect(reads.flat()).toEqual([]);
  });
});
