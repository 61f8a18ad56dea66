import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFlow, findFlow, finishFlow } from "../../src/otp/flows.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { createSession, loadSignedIn } from "../../src/session/sessions.ts";
import { createUser } from "../../src/users/users.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";
import { DIALECTS, migratedTestDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

/**
 * POST /otp reads its session's sign-in flow in the session's own statement (loadSignedIn's
 * `withFlow`, issue 17's round 31): the flow it answers must be the one a read of its own would give,
 * as of this request (a flow finished since the last request is seen finished), null for a session
 * without one, and the statement must find each row by its key, never by reading a table whole.
 */
describe.each(DIALECTS)("the session's flow read with the session, on %s", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  const tag = `sfp${Date.now().toString(36)}${dialect}`;
  const policy = { idleMs: 1_800_000, maxMs: 43_200_000, cookieDomain: null };

  beforeAll(async () => {
    database = await migratedTestDatabase(dialect, `session_flow_plan_${dialect}`);
    store = openStore(database.url);
    await migrateToLatest(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("answers the flow a read of its own gives, as of this request, and null without one, through keys", async () => {
    const now = 1_000_000;
    const user = (await createUser(store.db, TEST_KEYS, cryptoRandom, now, { loginId: `me-${tag}`, fullName: "Me", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: `me-${tag}@dealer.example` }))!;
    const flow = await createFlow(store.db, cryptoRandom, { userId: user.id, kind: "signin", email: user.otp_email!, now, returnTo: "/x" });
    const inFlow = await createSession(store.db, cryptoRandom, now, policy, { userId: user.id, stage: "otp", flowId: flow.id, ip: "192.0.2.1", userAgent: "t" });
    const without = await createSession(store.db, cryptoRandom, now, policy, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "t" });

    const { plugin, nodes } = captureStatements();
    const db = store.db.withPlugin(plugin);
    const loaded = await loadSignedIn(db, inFlow.token, now + 1, policy, true);
    expect(loaded?.flow).toEqual(await findFlow(store.db, flow.id));
    expect(loaded?.flow).toMatchObject({ id: flow.id, kind: "signin", finished_at: null, return_to: "/x" });
    expect(loaded?.user.id).toBe(user.id);
    // Finished by another request since: this request sees it finished.
    await finishFlow(store.db, flow.id, now + 2);
    expect((await loadSignedIn(db, inFlow.token, now + 3, policy, true))?.flow).toMatchObject({ id: flow.id, finished_at: now + 2 });
    expect((await loadSignedIn(db, without.token, now + 3, policy, true))?.flow).toBeNull();
    // Without `withFlow`, nothing of the flow is read or answered.
    expect(await loadSignedIn(db, inFlow.token, now + 3, policy)).not.toHaveProperty("flow");

    expect(nodes.length).toBeGreaterThan(0);
    const reads = await Promise.all(nodes.map((node) => fullReads(store, node, ["sessions", "users", "flows"], ["x"])));
    expect(reads.flat()).toEqual([]);
  });
});
