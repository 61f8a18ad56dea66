import { sql, type KyselyPlugin } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { ANNOUNCEMENT_KIND } from "../../src/rollout/announce-mail.ts";
import { announceRollout, forgetStaleAnnouncements } from "../../src/rollout/announce.ts";
import { readPlan, setWaveStart } from "../../src/rollout/plan.ts";
import type { Store } from "../../src/store/database.ts";
import { createUser } from "../../src/users/users.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";

const ACTOR = { actor: "operator:test", ip: "cli", userAgent: "test" };
const MAILS = 1_200;
const ENROLLED = 40;

/**
 * `famos rollout announce` lists the users whose latest announcement bounced hard, and a moved wave
 * (forgetStaleAnnouncements) leaves them unmarked. The outbox holds every mail FAMOS sent (a code mail
 * per sign-in, kept FAMOS_MAIL_KEEP): reading all its announcements into JavaScript to find the latest
 * of each user grew with the whole network's history, whatever the partner asked for. The statements
 * must reach the outbox through an index, and of announcements sent at the same moment the one that
 * went through is the latest (no arbitrary pick of a bounced one).
 */
describe.each(DIALECTS)("the rollout's bounced announcements, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let deps: Deps;
  let store: Store;
  const at = 5_000_000;

  async function person(login: string, partner: string) {
    const user = (await createUser(deps.db, deps.keys, deps.random, 1_000, { loginId: login, fullName: login, partnerNumber: partner, role: "user", passwordHash: "x", otpEmail: null }))!;
    await deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: `${login}@dealer.example`, grace_used: 0, announced_at: at }).execute();
    return user;
  }
  const mail = (id: string, userId: string, kind: string, created: number, hard: boolean) => ({
    id, user_id: userId, kind, recipient: `${id}@dealer.example`, subject: "s", text_body: "t", html_body: "h", message_id: `<${id}@x>`,
    state: "sent" as const, attempts: 1, next_attempt_at: created, created_at: created, sent_at: created,
    bounced_at: hard ? created + 1 : null, bounce_kind: hard ? ("hard" as const) : null,
    // Stored as it came (before reasonText): a hidden character in it.
    bounce_reason: hard ? "550 5.1.1 no such\u202e user" : null,
  });

  beforeAll(async () => {
    t = await openInstances(dialect, 1, `announce_plans_${dialect}`);
    deps = t.deps[0]!;
    store = t.stores[0]!;
    await setWaveStart(deps.db, "7", 9_000_000, 1_000, "test");
    const bounced = await person("bounced", "7");
    const okFirst = await person("tie-ok-first", "7");
    const okLast = await person("tie-ok-last", "7");
    const other = await person("other", "8");
    for (let i = 0; i < ENROLLED; i += 1) {
      await createUser(deps.db, deps.keys, deps.random, 1_000, { loginId: `enrolled-${i}`, fullName: "E", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: `desk${i % 8}@dealer.example` });
    }
    await deps.db.insertInto("outbox").values([
      mail("b-old", bounced.id, ANNOUNCEMENT_KIND, at - 10, false),
      mail("b-new", bounced.id, ANNOUNCEMENT_KIND, at, true),
      // Two announcements at the same moment, one bounced: inserted in either order.
      mail("f-1", okFirst.id, ANNOUNCEMENT_KIND, at, false),
      mail("f-2", okFirst.id, ANNOUNCEMENT_KIND, at, true),
      mail("l-1", okLast.id, ANNOUNCEMENT_KIND, at, true),
      mail("l-2", okLast.id, ANNOUNCEMENT_KIND, at, false),
    ]).execute();
    // Many other mails: code mails of the same users, and old announcements of nobody now.
    const filler = Array.from({ length: MAILS }, (_, i) => mail(`m-${i}`, i % 2 === 0 ? other.id : bounced.id, i % 3 === 0 ? ANNOUNCEMENT_KIND : "code", at - 1_000 - i, i % 7 === 0));
    for (let i = 0; i < filler.length; i += 300) await deps.db.insertInto("outbox").values(filler.slice(i, i + 300)).execute();
    await sql`analyze`.execute(deps.db);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("lists the user whose latest announcement bounced; of two sent at once, the one that went through counts", async () => {
    const report = await announceRollout(deps, { partner: "7", dryRun: true, actor: ACTOR });
    expect(report.bounced.map((b) => [b.loginId, b.address, b.reason])).toEqual([["bounced", "b-new@dealer.example", "550 5.1.1 no such\ufffd user"]]);
    expect(report).toMatchObject({ alreadyAnnounced: 2, enrolled: ENROLLED });
  });

  it("hands JavaScript the users still to tell and the partner's bounces, and counts the enrolled in the database", async () => {
    let rows = 0;
    const plugin: KyselyPlugin = { transformQuery: ({ node }) => node, transformResult: async ({ result }) => ((rows += result.rows.length), result) };
    const report = await announceRollout({ ...deps, db: deps.db.withPlugin(plugin) }, { partner: "7", dryRun: true, actor: ACTOR });
    expect(report.enrolled).toBe(ENROLLED);
    // 1 count, 3 not enrolled, the 1 bounce among them (not partner 8's): the plan is read only to mail.
    expect(rows).toBe(5);
  });

  it("reads no whole outbox to find the bounced announcements, for the run or after a moved wave", async () => {
    const { plugin, nodes } = captureStatements();
    const traced = { ...deps, db: deps.db.withPlugin(plugin) };
    await announceRollout(traced, { partner: null, dryRun: true, actor: ACTOR });
    const before = await readPlan(deps.db);
    await forgetStaleAnnouncements(traced, before, { ...before, partners: new Map([["7", 9_500_000]]) }, "7");
    expect(nodes.length).toBeGreaterThan(2);
    const reads = await Promise.all(nodes.map((node) => fullReads(store, node, ["outbox"])));
    expect(reads.flat()).toEqual([]);
  });
});
