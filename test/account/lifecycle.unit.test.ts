import { loginCounterKey } from "../support/login-counter.ts";
import { describe, expect, it } from "vitest";
import { disableUser, enableUser } from "../../src/account/disable.ts";
import { eraseUser } from "../../src/account/erase.ts";
import { queryAudit, recordAudit } from "../../src/audit/audit.ts";
import { addressKey } from "../../src/bounce/addresses.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import type { Acting } from "../../src/support/acting.ts";
import { createSession } from "../../src/session/sessions.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;
const operator: Acting = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const as = (user: User): Acting => ({ user, audit: { actor: user.login_id, ip: "192.0.2.5", userAgent: "console" } });

/** A leaver disabled, enabled again, or erased (issue 11; GDPR art. 17), as the console and the CLI call it. */
describe("disabling, enabling and erasing an account (unit tier)", () => {
  const unit = useUnitDeps();
  const now = unit.now;
  const db = () => unit.deps.db;
  async function withAccess(user: User) {
    for (let i = 0; i < 2; i++) await createSession(db(), unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    const flow = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email ?? "x@dealer.example", now: now() });
    await issueCode(unit.deps, db(), flow, user.login_id, now());
  }
  const live = async (userId: string) => ({
    sessions: (await db().selectFrom("sessions").select("end_reason").where("user_id", "=", userId).where("ended_at", "is", null).execute()).length,
    codes: (await db().selectFrom("codes").select("id").where("user_id", "=", userId).where("voided_at", "is", null).execute()).length,
    flows: (await db().selectFrom("flows").select("id").where("user_id", "=", userId).where("finished_at", "is", null).execute()).length,
  });

  describe("disableUser and enableUser", () => {
    it("disables once: no sign-in, every session, code and flow ended, audited with the count; a second time changes nothing", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const user = await addUser(unit.deps);
      const other = await addUser(unit.deps);
      await withAccess(user);
      await withAccess(other);
      unit.clock.advance(MINUTE);
      const outcome = await disableUser(unit.deps, as(support), user.id);
      expect(outcome).toMatchObject({ kind: "disabled", sessionsEnded: 2, user: { id: user.id, disabled_at: now() } });
      expect(await findUserById(db(), user.id)).toMatchObject({ disabled_at: now(), updated_at: now() });
      expect(await live(user.id)).toEqual({ sessions: 0, codes: 0, flows: 0 });
      expect(await db().selectFrom("sessions").select("end_reason").where("user_id", "=", user.id).execute()).toEqual([{ end_reason: "disabled" }, { end_reason: "disabled" }]);
      expect(await live(other.id)).toEqual({ sessions: 2, codes: 1, flows: 1 });
      expect(await findUserById(db(), other.id)).toMatchObject({ disabled_at: null });
      const [event] = await queryAudit(db(), { subject: user.login_id, event: "user.disabled" });
      expect(event).toMatchObject({ time: now(), actor: support.login_id, ip: "192.0.2.5", userAgent: "console", detail: { sessionsEnded: 2 } });

      unit.clock.advance(MINUTE);
      expect(await disableUser(unit.deps, as(support), user.id)).toMatchObject({ kind: "unchanged", user: { id: user.id, disabled_at: now() - MINUTE } });
      expect(await findUserById(db(), user.id)).toMatchObject({ disabled_at: now() - MINUTE, updated_at: now() - MINUTE });
      expect(await queryAudit(db(), { subject: user.login_id, event: "user.disabled" })).toHaveLength(1);
    });

    it("enables once, audited; enabling an enabled account changes nothing", async () => {
      const user = await addUser(unit.deps);
      expect(await enableUser(unit.deps, operator, user.id)).toMatchObject({ kind: "unchanged", user: { id: user.id, disabled_at: null } });
      expect(await findUserById(db(), user.id)).toMatchObject({ updated_at: user.updated_at });
      await disableUser(unit.deps, operator, user.id);
      await withAccess(user);
      unit.clock.advance(MINUTE);
      expect(await enableUser(unit.deps, operator, user.id)).toMatchObject({ kind: "enabled", user: { id: user.id, disabled_at: null } });
      expect(await findUserById(db(), user.id)).toMatchObject({ disabled_at: null, updated_at: now() });
      // Enabling ends nothing.
      expect(await live(user.id)).toEqual({ sessions: 2, codes: 1, flows: 1 });
      const [event] = await queryAudit(db(), { subject: user.login_id, event: "user.enabled" });
      expect(event).toMatchObject({ time: now(), actor: "operator:test", ip: "cli", detail: {} });
      expect(await enableUser(unit.deps, operator, user.id)).toMatchObject({ kind: "unchanged" });
      expect(await queryAudit(db(), { subject: user.login_id, event: "user.enabled" })).toHaveLength(1);
      expect(await queryAudit(db(), { subject: user.login_id, event: "user.disabled" })).toHaveLength(1);
    });

    it("refuses no such account, support on an administrator, anyone on their own, a plain user on anyone: nothing changes", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const admin = await addUser(unit.deps, { role: "admin" });
      const plain = await addUser(unit.deps);
      await withAccess(admin);
      expect(await disableUser(unit.deps, operator, "no-such-user")).toEqual({ kind: "not-found" });
      expect(await enableUser(unit.deps, operator, "no-such-user")).toEqual({ kind: "not-found" });
      expect(await disableUser(unit.deps, as(support), admin.id)).toMatchObject({ kind: "forbidden", reason: "admin-account" });
      expect(await disableUser(unit.deps, as(support), support.id)).toMatchObject({ kind: "forbidden", reason: "own-account" });
      expect(await disableUser(unit.deps, as(plain), support.id)).toMatchObject({ kind: "forbidden", reason: "no-role" });
      for (const who of [admin, support]) expect(await findUserById(db(), who.id)).toMatchObject({ disabled_at: null });
      expect(await live(admin.id)).toEqual({ sessions: 2, codes: 1, flows: 1 });
      // Another enabled administrator first: the last one is never disabled (support/roles.ts, lastAdminRefusal).
      await addUser(unit.deps, { role: "admin" });
      await disableUser(unit.deps, operator, admin.id);
      expect(await enableUser(unit.deps, as(support), admin.id)).toMatchObject({ kind: "forbidden", reason: "admin-account" });
      expect(await findUserById(db(), admin.id)).toMatchObject({ disabled_at: now() });
    });
  });

  describe("a peer support account (only an administrator disables, enables or erases it)", () => {
    const PEER = { kind: "forbidden", reason: "support-account", message: "Only an administrator can disable, enable or erase a support account." };

    it("refuses support disabling, enabling or erasing another support account: no write, no event, every session, code and flow live", async () => {
      const support = await addUser(unit.deps, { role: "support" });
      const peer = await addUser(unit.deps, { role: "support", email: "peer@dealer.example" });
      const admin = await addUser(unit.deps, { role: "admin" });
      await withAccess(peer);
      await recordAudit(db(), now(), { event: "password.ok", actor: peer.login_id, subject: peer.login_id, ip: "203.0.113.9", userAgent: "Mozilla" });
      unit.clock.advance(MINUTE);
      const events = async () => (await queryAudit(db(), { subject: peer.login_id })).map((e) => e.event);

      expect(await disableUser(unit.deps, as(support), peer.id)).toEqual(PEER);
      expect(await eraseUser(unit.deps, as(support), peer.id)).toEqual(PEER);
      expect(await findUserById(db(), peer.id)).toMatchObject({ disabled_at: null, updated_at: peer.updated_at });
      expect(await live(peer.id)).toEqual({ sessions: 2, codes: 1, flows: 1 });
      expect(await events()).toEqual(["password.ok"]);

      // Disabled by an administrator, the peer stays disabled when support would enable it.
      expect(await disableUser(unit.deps, as(admin), peer.id)).toMatchObject({ kind: "disabled", sessionsEnded: 2 });
      unit.clock.advance(MINUTE);
      expect(await enableUser(unit.deps, as(support), peer.id)).toEqual(PEER);
      expect(await findUserById(db(), peer.id)).toMatchObject({ disabled_at: now() - MINUTE });
      expect(await events()).toEqual(["user.disabled", "password.ok"]);
      expect(await enableUser(unit.deps, as(admin), peer.id)).toMatchObject({ kind: "enabled" });
      expect(await eraseUser(unit.deps, as(admin), peer.id)).toMatchObject({ kind: "erased" });
      expect(await findUserById(db(), peer.id)).toBeUndefined();
    });
  });

  describe("eraseUser", () => {
    it("removes the account and all it left, keeps its events under a pseudonym, audits the erasure under it; others keep theirs", async () => {
      const user = await addUser(unit.deps, { email: "erin.leaver@dealer.example" });
      const other = await addUser(unit.deps, { email: "stays@dealer.example" });
      await db().updateTable("users").set({ pending_email: "erin.next@dealer.example" }).where("id", "=", user.id).execute();
      for (const who of [user, other]) {
        await withAccess(who);
        await db().insertInto("devices").values({ id: `dev-${who.id}`, login_key: who.login_key, created_at: now(), last_used_at: now(), revoked_at: null }).execute();
        for (const key of [loginCounterKey("password", who.login_key), loginCounterKey("code", who.login_key), `password:dev:dev-${who.id}`, `code:dev:dev-${who.id}`]) {
          await db().insertInto("throttles").values({ key, failures: 1, locked_until: 0, hard_locked: 0, updated_at: now(), window_started_at: 0 }).execute();
        }
        await db().insertInto("recovery_codes").values({ id: `rc-${who.id}`, user_id: who.id, code_hash: "h", created_at: now(), used_at: null }).execute();
        await recordAudit(db(), now(), { event: "password.ok", actor: who.login_id, subject: who.login_id, ip: "203.0.113.9", userAgent: "Mozilla" });
      }
      for (const address of ["erin.leaver@dealer.example", "erin.next@dealer.example", "stays@dealer.example"]) {
        await db().insertInto("mail_addresses").values({ address_key: addressKey(address), soft_bounces: 1, updated_at: now() }).execute();
      }
      unit.clock.advance(MINUTE);
      const outcome = await eraseUser(unit.deps, operator, user.id);
      expect(outcome).toEqual({ kind: "erased", loginId: user.login_id, pseudonym: expect.stringMatching(/^erased-[A-Za-z0-9_-]{8}$/), events: 1 });
      if (outcome.kind !== "erased") throw new Error("not erased");
      expect(await findUserById(db(), user.id)).toBeUndefined();
      for (const table of ["sessions", "flows", "codes", "outbox", "recovery_codes"] as const) {
        expect(await db().selectFrom(table).select("user_id").where("user_id", "=", user.id).execute(), table).toEqual([]);
        expect((await db().selectFrom(table).select("user_id").where("user_id", "=", other.id).execute()).length, table).toBeGreaterThan(0);
      }
      expect(await db().selectFrom("devices").select("id").where("login_key", "=", user.login_key).execute()).toEqual([]);
      expect(await db().selectFrom("devices").select("id").where("login_key", "=", other.login_key).execute()).toHaveLength(1);
      const keys = (await db().selectFrom("throttles").select("key").execute()).map((r) => r.key).sort();
      expect(keys).toEqual([`code:dev:dev-${other.id}`, loginCounterKey("code", other.login_key), `password:dev:dev-${other.id}`, loginCounterKey("password", other.login_key)].sort());
      expect((await db().selectFrom("mail_addresses").select("address_key").execute()).map((r) => r.address_key)).toEqual([addressKey("stays@dealer.example")]);
      expect(await queryAudit(db(), { subject: user.login_id })).toEqual([]);
      const under = await queryAudit(db(), { subject: outcome.pseudonym });
      expect(under.map((e) => e.event)).toEqual(["user.erased", "password.ok"]);
      expect(under[0]).toMatchObject({ time: now(), actor: "operator:test", ip: "cli", detail: { events: 1 } });
      expect(await queryAudit(db(), { subject: other.login_id, event: "password.ok" })).toEqual([expect.objectContaining({ actor: other.login_id, ip: "203.0.113.9" })]);
    });

    it("erases an account without any address; refuses no such account, support on an administrator, anyone on their own", async () => {
      const bare = await addUser(unit.deps, { email: null });
      expect(await eraseUser(unit.deps, operator, bare.id)).toMatchObject({ kind: "erased", events: 0 });
      const support = await addUser(unit.deps, { role: "support" });
      const admin = await addUser(unit.deps, { role: "admin" });
      expect(await eraseUser(unit.deps, operator, "no-such-user")).toEqual({ kind: "not-found" });
      expect(await eraseUser(unit.deps, as(support), admin.id)).toMatchObject({ kind: "forbidden", reason: "admin-account" });
      expect(await eraseUser(unit.deps, as(support), support.id)).toMatchObject({ kind: "forbidden", reason: "own-account" });
      expect(await eraseUser(unit.deps, as(admin), support.id)).toMatchObject({ kind: "erased" });
      expect(await findUserById(db(), admin.id)).toBeDefined();
      expect(await findUserById(db(), support.id)).toBeUndefined();
    });
  });
});
