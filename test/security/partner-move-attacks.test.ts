import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryId, QueryResult, UnknownRow } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { changeWave } from "../../src/rollout/plan-change.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { until } from "../support/until.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Within FAMOS_SESSION_IDLE (30 min), so only the wave's start can end the session by then. */
const SOON = 20 * 60_000;
/** The portal's own page, not the sign-in page "/" shows a signed-out browser (both answer 200). */
const PORTAL = 'action="/logout"';
const ACTOR = { actor: "operator", ip: null, userAgent: null };

/**
 * A user moved to another partner (`famos user import --update`, the one path that writes a partner
 * number) while a session the password alone opened before their wave is live: that session must not
 * outlive the start of the wave that now applies to them. Before, it kept the old partner's start as its
 * end, up to FAMOS_SESSION_MAX (12 h), in the browser of whoever had the password (SECURITY 18).
 */
describe.each(DIALECTS)("a password-only session when its user moves partner (%s)", (dialect) => {
  let t: TestApp;
  let partner = 0;
  const newPartner = () => `mv${dialect.slice(0, 2)}${(partner += 1)}`;

  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_2FA_GRACE_SIGNINS: "1" } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The import's --update of one row: the user as they are, but for their partner number. */
  async function moveByImport(user: Awaited<ReturnType<typeof addUser>>, to: string, deps: Deps = t.deps) {
    const row = { line: 2, loginId: user.login_id, fullName: user.full_name, partnerNumber: to, role: user.role, email: user.otp_email, passwordHash: user.password_hash };
    const report = await storeImportedUsers(deps, [row], { update: true, actor: ACTOR });
    expect(report.updated).toBe(1);
  }
  /** Two partners with these starts (from now), and a user of the first signed in on the password alone. */
  async function signedInBeforeWave(fromStart: number, toStart: number) {
    const start = t.clock.now();
    const [from, to] = [newPartner(), newPartner()];
    await setWaveStart(t.deps.db, from, start + fromStart, start, "test");
    await setWaveStart(t.deps.db, to, start + toStart, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: from });
    await submitPassword(new FormClient(t.app), user.login_id, user.password);
    return { start, to, user };
  }
  /** The detail of the login ID's latest user.updated audit line. */
  const updatedDetail = async (loginId: string) =>
    JSON.parse((await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "user.updated").where("subject", "=", loginId).orderBy("id", "desc").executeTakeFirstOrThrow()).detail) as Record<string, unknown>;
  const sessionEnds = async (loginId: string) =>
    (await t.deps.db.selectFrom("sessions").innerJoin("users", "users.id", "sessions.user_id").select("sessions.expires_at").where("users.login_id", "=", loginId).execute()).map((s) => Number(s.expires_at));

  it("moved to a partner whose start has passed: the before-wave session opens the portal no more", async () => {
    const start = t.clock.now();
    const [from, to] = [newPartner(), newPartner()];
    await setWaveStart(t.deps.db, from, start + 5 * DAY, start, "test");
    await setWaveStart(t.deps.db, to, start - HOUR, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: from });
    const thief = new FormClient(t.app);
    expect((await submitPassword(thief, user.login_id, user.password)).headers.location).toBe("/");
    expect((await thief.get("/")).body).toContain(PORTAL);
    await moveByImport(user, to);
    t.clock.set(start + 1000);
    const page = await thief.get("/");
    t.clock.set(start);
    expect(page.body).not.toContain(PORTAL);
    expect((await sessionEnds(user.login_id)).every((end) => end <= start)).toBe(true);
    // The move's audit line says how many it cut short, as a wave change's rollout.planned does (they end as a lapse, unaudited).
    expect(await updatedDetail(user.login_id)).toMatchObject({ changed: "partner_number", passwordOnlyEnded: 1 });
  });

  it("moved to a partner whose start comes earlier: the session ends at the new start; a colleague's stays", async () => {
    const start = t.clock.now();
    const [from, to] = [newPartner(), newPartner()];
    await setWaveStart(t.deps.db, from, start + 10 * HOUR, start, "test");
    await setWaveStart(t.deps.db, to, start + SOON, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: from });
    const colleague = await addUser(t.deps, { email: null, partnerNumber: from });
    const [thief, other] = [new FormClient(t.app), new FormClient(t.app)];
    await submitPassword(thief, user.login_id, user.password);
    await submitPassword(other, colleague.login_id, colleague.password);
    await moveByImport(user, to);
    t.clock.set(start + SOON);
    const page = await thief.get("/");
    const kept = await other.get("/");
    t.clock.set(start);
    expect(page.body).not.toContain(PORTAL);
    expect(kept.body).toContain(PORTAL);
    expect(await sessionEnds(user.login_id)).toEqual([start + SOON]);
    expect(await sessionEnds(colleague.login_id)).toEqual([start + 10 * HOUR]);
    expect(await updatedDetail(user.login_id)).toMatchObject({ passwordOnlyEnded: 1 });
  });

  it("moved to a partner whose start comes later: the session keeps its end (a move never lengthens one)", async () => {
    const { start, to, user } = await signedInBeforeWave(2 * HOUR, 5 * DAY);
    await moveByImport(user, to);
    expect(await sessionEnds(user.login_id)).toEqual([start + 2 * HOUR]);
    // A move that cut nothing says so (0), as a wave change that cut nothing does.
    expect(await updatedDetail(user.login_id)).toMatchObject({ passwordOnlyEnded: 0 });
  });

  it("an update that moves no one (a new name) runs no cut: its audit line has no passwordOnlyEnded", async () => {
    const { start, user } = await signedInBeforeWave(2 * HOUR, 5 * DAY);
    const row = { line: 2, loginId: user.login_id, fullName: `${user.full_name} renamed`, partnerNumber: user.partner_number, role: user.role, email: user.otp_email, passwordHash: user.password_hash };
    expect((await storeImportedUsers(t.deps, [row], { update: true, actor: ACTOR })).updated).toBe(1);
    expect(await sessionEnds(user.login_id)).toEqual([start + 2 * HOUR]);
    const detail = await updatedDetail(user.login_id);
    expect(detail).toMatchObject({ changed: "full_name" });
    expect(detail).not.toHaveProperty("passwordOnlyEnded");
  });

  it("\"Later\" chosen after the old partner's start stays when the user moves to another partner whose start has passed", async () => {
    const start = t.clock.now();
    const [from, to] = [newPartner(), newPartner()];
    await setWaveStart(t.deps.db, from, start - HOUR, start, "test");
    await setWaveStart(t.deps.db, to, start - 2 * HOUR, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: from });
    const owner = new FormClient(t.app);
    await submitPassword(owner, user.login_id, user.password);
    await owner.get("/enrol");
    expect((await owner.post("/enrol/later", { email: "", confirmEmail: "" })).headers.location).toBe("/");
    expect((await owner.get("/")).body).toContain(PORTAL);
    const before = await sessionEnds(user.login_id);
    await moveByImport(user, to);
    expect(await sessionEnds(user.login_id)).toEqual(before);
    expect(await updatedDetail(user.login_id)).toMatchObject({ passwordOnlyEnded: 0 });
    expect((await owner.get("/")).body).toContain(PORTAL);
  });

  /** deps whose first read of the waves runs `between` once it has its rows (before the next statement). */
  function withGap(between: () => Promise<unknown>): Deps {
    let armed: QueryId | null = null;
    let done = false;
    const plugin: KyselyPlugin = {
      transformQuery(args: PluginTransformQueryArgs) {
        if (!done && armed === null && args.node.kind === "SelectQueryNode" && JSON.stringify(args.node).includes('"rollout_plan"')) armed = args.queryId;
        return args.node;
      },
      async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
        if (!done && armed !== null && args.queryId === armed) {
          done = true;
          await between();
        }
        return args.result;
      },
    };
    return { ...t.deps, db: t.deps.db.withPlugin(plugin) } as Deps;
  }

  // PostgreSQL only (registered there alone, so that the SQLite run reports no skipped test): SQLite's one
  // writer already runs the import's batch and a wave change one after the other.
  if (dialect === "postgres") it("a wave changed while the import moves the user: the session still ends at the new start", async () => {
    const { start, to, user } = await signedInBeforeWave(5 * DAY, 5 * DAY);
    let change: Promise<unknown> = Promise.resolve();
    // The change to the new partner's start (brought to now) begins while the import's batch is under
    // way: it either waits for the batch (the waves held) or commits first; the batch goes on then.
    const gap = async () => {
      let settled = false;
      change = changeWave(t.deps, { user: null, audit: ACTOR }, { partner: to, from: new Date(start).toISOString().slice(0, 16), timeZone: "UTC" }).finally(() => (settled = true));
      const waiting = sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%rollout_plan%for update%'`;
      // Until the change waits for the batch's lock (PostgreSQL shows it) or has committed first.
      await until("the wave change to wait for the batch or to commit", async () => settled || (await waiting.execute(t.deps.db)).rows[0]!.n > 0);
    };
    await moveByImport(user, to, withGap(gap));
    await change;
    expect((await sessionEnds(user.login_id)).every((end) => end <= start)).toBe(true);
  });
});
