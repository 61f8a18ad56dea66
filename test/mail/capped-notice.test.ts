import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { REUSE_NOTICE_KIND, tellCodeReused } from "../../src/factors/reuse-notice.ts";
import { queueCappedNotice, type CappedNotice } from "../../src/mail/capped-notice.ts";
import { takeTurnsOn } from "../../src/store/take-turns.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";

const MINUTE = 60_000;

/**
 * The one rule of a notice with an hourly cap (queueCappedNotice), which the factor-change notice
 * (five an hour) and the code-reuse notice (one an hour) both call: at most N of a kind per user in a
 * rolling hour, the last one told it is the last, counted in the transaction after the user's row is
 * taken, so notices at once count one after the other. On a database of each dialect; on PostgreSQL
 * through two instances (two pools), as two servers would race.
 */
describe.each(DIALECTS)("notices with an hourly cap on %s", { timeout: 60_000 }, (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let deps: Deps;
  beforeAll(async () => {
    // SQLite is one process's file: one instance there.
    t = await openInstances(dialect, dialect === "postgres" ? 2 : 1, `capped_notice_${dialect}`);
    deps = t.deps[0]!;
  });
  afterAll(async () => t?.close());

  const notice = (kind: string, perHour: number): CappedNotice => ({ kind, perHour, mail: (until) => ({ subject: "Notice", text: until === undefined ? "more" : `last ${until}`, html: "<p>Notice</p>" }) });
  /** One notice in a transaction of its own, the user's row taken first, as every caller does. */
  const tell = (user: User, kind: string, perHour: number, on: Deps = deps) =>
    on.db.transaction().execute(async (tx) => {
      await takeTurnsOn(tx, on.dialect, { table: "users", id: user.id });
      return queueCappedNotice(tx, on, user, t.clock.now(), notice(kind, perHour));
    });
  const mails = async (user: User, kind: string) =>
    (await deps.db.selectFrom("outbox").select(["text_body", "created_at"]).where("user_id", "=", user.id).where("kind", "=", kind).orderBy("created_at").execute()).map((m) => m.text_body);

  it("queues at most N of a kind per user in a rolling hour, the Nth saying it is the last; other kinds and users count apart", async () => {
    const user = await addUser(deps);
    const other = await addUser(deps);
    const start = t.clock.now();
    const HOUR = 60 * MINUTE;
    expect([await tell(user, "test.a", 3), await tell(user, "test.a", 3)]).toEqual([true, true]);
    t.clock.advance(30 * MINUTE);
    expect([await tell(user, "test.a", 3), await tell(user, "test.a", 3)]).toEqual([true, false]);
    // The last says until when: the oldest counted notice (at start) leaves the hour at start + 1 h, not 30 min + 1 h.
    expect(await mails(user, "test.a")).toEqual(["more", "more", `last ${start + HOUR}`]);
    expect([await tell(user, "test.b", 1), await tell(other, "test.a", 3)]).toEqual([true, true]);
    // One allowed: the last is the first, and its place frees an hour after itself.
    expect(await mails(user, "test.b")).toEqual([`last ${start + 30 * MINUTE + HOUR}`]);
    // An hour after the first two, they no longer count: two more, the second the last again.
    t.clock.advance(30 * MINUTE + 1);
    expect([await tell(user, "test.a", 3), await tell(user, "test.a", 3), await tell(user, "test.a", 3)]).toEqual([true, true, false]);
    expect(await mails(user, "test.a")).toEqual(["more", "more", `last ${start + HOUR}`, "more", `last ${start + 30 * MINUTE + HOUR}`]);
  });

  it("the last one's until moment is rounded up to the whole second its words show: a notice at hh:00:00.700 leaves the hour after hh+1:00:00", async () => {
    const user = await addUser(deps);
    const second = Math.floor(t.clock.now() / 1000) * 1000 + 1000;
    t.clock.set(second + 700);
    expect(await tell(user, "test.e", 1)).toBe(true);
    // A place frees at second + 1 h + 700 ms: "before second + 1 h" (rounded down) left 700 ms of unmailed changes unsaid.
    expect(await mails(user, "test.e")).toEqual([`last ${second + 60 * MINUTE + 1000}`]);
    // On a whole second it stays as it is.
    t.clock.set(second + 1000);
    expect(await tell(user, "test.f", 1)).toBe(true);
    expect(await mails(user, "test.f")).toEqual([`last ${second + 1000 + 60 * MINUTE}`]);
  });

  it("no OTP email, no notice", async () => {
    const user = await addUser(deps, { email: null });
    expect(await tell(user, "test.c", 5)).toBe(false);
    expect(await mails(user, "test.c")).toEqual([]);
  });

  it("notices at once count one after the other: exactly N are queued and one of them is the last", async () => {
    const user = await addUser(deps);
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => tell(user, "test.d", 3, t.deps[i % t.deps.length]!)));
    expect(outcomes.filter(Boolean)).toHaveLength(3);
    expect((await mails(user, "test.d")).map((m) => m?.split(" ")[0]).sort()).toEqual(["last", "more", "more"]);
  });

  it("a used code replayed at once from two servers mails its holder once (tellCodeReused's cap of one)", async () => {
    const user = await addUser(deps);
    const now = t.clock.now();
    await Promise.all(Array.from({ length: 6 }, (_, i) => tellCodeReused(t.deps[i % t.deps.length]!, user, "recovery", now)));
    expect(await mails(user, REUSE_NOTICE_KIND)).toHaveLength(1);
  });

  it("counts through the outbox's (user_id, created_at) index, not a read of the whole outbox", async () => {
    const user = await addUser(deps);
    const { plugin, nodes } = captureStatements();
    await deps.db.transaction().execute((tx) => queueCappedNotice(tx.withPlugin(plugin), deps, user, t.clock.now(), notice("test.e", 1)));
    const count = nodes.find((node) => node.kind === "SelectQueryNode");
    expect(count).toBeDefined();
    expect(await fullReads(t.stores[0]!, count!, ["outbox"])).toEqual([]);
  });
});
