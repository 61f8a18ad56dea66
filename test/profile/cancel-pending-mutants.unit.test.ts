import { describe, expect, it } from "vitest";
import { createFlow, finishUserFlows, newestOpenFlow } from "../../src/otp/flows.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { cancelEmailChange, startEmailChange } from "../../src/profile/email-change.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/**
 * The address a Cancel of an email change leaves waiting (pendingAfterCancel, src/profile/email-change.ts)
 * and the two flow rules it stands on (src/otp/flows.ts): newestOpenFlow, and otherAddressThan's compare
 * without regard to case (addressKey). test/profile/email-change-cancel-races.test.ts runs these through
 * HTTP; run C14 found no unit test of them.
 */
describe("Cancel's pending address and the open flows it reads (unit tier)", () => {
  const unit = useUnitDeps();
  const now = () => unit.clock.now();
  const ctx: RequestContext = { ip: "198.51.100.7", userAgent: "cancel-pending" };
  const reload = async (id: string): Promise<User> => (await findUserById(unit.deps.db, id))!;
  const entry = (email: string) => ({ entry: { email, confirmEmail: email, ownMailbox: false }, password: null });
  const fresh = async (user: User): Promise<Session> => {
    const made = await createSession(unit.deps.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    await unit.deps.db.updateTable("sessions").set({ verified_at: now() }).where("id", "=", made.session.id).execute();
    return { ...made.session, verified_at: now() };
  };
  /** A change started in a session of its own: the session as the next request reads it. */
  const start = async (user: User, email: string): Promise<Session> => {
    const s = await fresh(user);
    expect(await startEmailChange(unit.deps, await reload(user.id), s, entry(email), ctx)).toMatchObject({ kind: "code-sent" });
    const row = await unit.deps.db.selectFrom("sessions").select("flow_id").where("id", "=", s.id).executeTakeFirstOrThrow();
    return { ...s, flow_id: row.flow_id };
  };
  const pending = async (user: User) => (await reload(user.id)).pending_email;

  it("newestOpenFlow: the latest created of those kinds, open, the user's; a tie in time goes to the larger id", async () => {
    const user = await addUser(unit.deps, { email: null });
    const other = await addUser(unit.deps, { email: null });
    const make = (userId: string, kind: "signin" | "enrol" | "email-change", email: string) => createFlow(unit.deps.db, unit.deps.random, { userId, kind, email, now: now() });
    const first = await make(user.id, "enrol", "first@dealer.test");
    unit.clock.advance(1_000);
    const second = await make(user.id, "email-change", "second@dealer.test");
    expect((await newestOpenFlow(unit.deps.db, user.id, { kinds: ["enrol", "email-change"] }))?.id).toBe(second.id);
    expect((await newestOpenFlow(unit.deps.db, user.id, { kinds: ["enrol"] }))?.id).toBe(first.id);
    unit.clock.advance(1_000);
    await make(user.id, "signin", "signin@dealer.test");
    await make(other.id, "enrol", "theirs@dealer.test");
    expect((await newestOpenFlow(unit.deps.db, user.id, { kinds: ["enrol", "email-change"] }))?.id).toBe(second.id);
    unit.clock.advance(1_000);
    const tied = [await make(user.id, "enrol", "tie1@dealer.test"), await make(user.id, "enrol", "tie2@dealer.test")];
    const larger = tied.map((f) => f.id).sort().at(-1);
    expect((await newestOpenFlow(unit.deps.db, user.id, { kinds: ["enrol"] }))?.id).toBe(larger);
    await finishUserFlows(unit.deps.db, user.id, now(), { kinds: ["enrol"] });
    expect((await newestOpenFlow(unit.deps.db, user.id, { kinds: ["enrol"] }))).toBeUndefined();
    expect((await newestOpenFlow(unit.deps.db, user.id, { kinds: ["enrol", "email-change"] }))?.id).toBe(second.id);
  });

  it("otherAddressThan: the same mailbox in other case is no other address, either way round", async () => {
    const user = await addUser(unit.deps, { email: null });
    const upper = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "enrol", email: "Jane.Doe@Dealer.test", now: now() });
    await finishUserFlows(unit.deps.db, user.id, now(), { kinds: ["enrol"], otherAddressThan: "jane.doe@dealer.test" });
    expect((await newestOpenFlow(unit.deps.db, user.id, { kinds: ["enrol"] }))?.id).toBe(upper.id);
    const lower = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "enrol", email: "jane.doe@dealer.test", now: now() });
    await finishUserFlows(unit.deps.db, user.id, now(), { kinds: ["enrol"], otherAddressThan: "JANE.DOE@DEALER.TEST" });
    const open = await unit.deps.db.selectFrom("flows").select("id").where("user_id", "=", user.id).where("finished_at", "is", null).execute();
    expect(open.map((f) => f.id).sort()).toEqual([upper.id, lower.id].sort());
    await finishUserFlows(unit.deps.db, user.id, now(), { kinds: ["enrol"], otherAddressThan: "john@dealer.test" });
    expect(await newestOpenFlow(unit.deps.db, user.id, { kinds: ["enrol"] })).toBeUndefined();
  });

  it("a Cancel leaves the newest open change's address waiting, another browser's for the same mailbox in other case", async () => {
    const user = await addUser(unit.deps);
    const first = await start(user, "New.One@dealer.test");
    unit.clock.advance(60_000);
    await start(user, "new.one@dealer.test");
    expect(await pending(user)).toBe("new.one@dealer.test");
    // The first browser's change (kept: the same mailbox) cancelled: the second's still waits.
    expect(await cancelEmailChange(unit.deps, await reload(user.id), first, ctx)).toEqual({ kind: "cancelled" });
    expect(await pending(user)).toBe("new.one@dealer.test");
  });

  it("no change left open: none waits when it was the cancelled change's address in any case, else it stays as it is", async () => {
    const user = await addUser(unit.deps);
    const s = await start(user, "Moved.On@dealer.test");
    await unit.deps.db.updateTable("users").set({ pending_email: "moved.on@DEALER.test" }).where("id", "=", user.id).execute();
    expect(await cancelEmailChange(unit.deps, await reload(user.id), s, ctx)).toEqual({ kind: "cancelled" });
    expect(await pending(user)).toBeNull();

    const kept = await addUser(unit.deps);
    const t = await start(kept, "mine@dealer.test");
    await unit.deps.db.updateTable("users").set({ pending_email: "someone.else@dealer.test" }).where("id", "=", kept.id).execute();
    expect(await cancelEmailChange(unit.deps, await reload(kept.id), t, ctx)).toEqual({ kind: "cancelled" });
    expect(await pending(kept)).toBe("someone.else@dealer.test");
  });

  it("an open flow of another kind (a sign-in at its code step in another browser) leaves no address waiting", async () => {
    const user = await addUser(unit.deps);
    const s = await start(user, "changed@dealer.test");
    unit.clock.advance(60_000);
    await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    expect(await cancelEmailChange(unit.deps, await reload(user.id), s, ctx)).toEqual({ kind: "cancelled" });
    expect(await pending(user)).toBeNull();
  });
});
