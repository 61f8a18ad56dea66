import { describe, expect, it } from "vitest";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { NotMoved, RollBack, rolledBackAs, unlessMoved } from "../../src/session/live-session.ts";
import { cancelSignIn, signOut } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/**
 * A step that gives up whole with an outcome (RollBack, rolledBackAs: src/session/live-session.ts), and
 * its use by Cancel and Sign out (endSessionOnce, src/signin/code-step.ts): a second request that finds
 * the session ended answers "signed-out" and writes nothing, so one session has one entry in the trail.
 * On in-memory SQLite; test/signin/end-session-races.test.ts runs the same through HTTP.
 */
describe("RollBack and the shared Cancel/Sign out end (unit tier)", () => {
  const unit = useUnitDeps();
  const ctx: RequestContext = { ip: "198.51.100.9", userAgent: "roll-back-test" };
  const audits = async (subject: string) => (await unit.deps.db.selectFrom("audit").select("event").where("subject", "=", subject).orderBy("id").execute()).map((a) => a.event);

  it("rolledBackAs: a listed kind's RollBack answers { kind } with the step's writes undone; any other error is thrown on", async () => {
    const user = await addUser(unit.deps);
    const write = (error: Error) =>
      unit.deps.db.transaction().execute(async (tx) => {
        await tx.updateTable("users").set({ pending_email: "gone@dealer.test" }).where("id", "=", user.id).execute();
        throw error;
      });
    expect(await rolledBackAs(write(new RollBack("signed-out")), ["signed-out", "moved"] as const)).toEqual({ kind: "signed-out" });
    expect((await unit.deps.db.selectFrom("users").select("pending_email").where("id", "=", user.id).executeTakeFirstOrThrow()).pending_email).toBeNull();
    expect(await unlessMoved(write(new NotMoved()))).toEqual({ kind: "moved" });
    await expect(rolledBackAs(write(new RollBack("none-left")), ["signed-out"] as const)).rejects.toThrow("none-left");
    await expect(unlessMoved(write(new RollBack("signed-out")))).rejects.toBeInstanceOf(RollBack);
    await expect(rolledBackAs(write(new Error("moved")), ["moved"] as const)).rejects.toThrow("moved");
    expect(await rolledBackAs(Promise.resolve(7), ["moved"] as const)).toBe(7);
  });

  it("Cancel twice: the first ends the session and audits, the second answers signed-out and writes nothing", async () => {
    const user = await addUser(unit.deps);
    const step = await passwordStep(unit.deps, { loginId: user.login_id, password: user.password }, ctx);
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    expect(await cancelSignIn(unit.deps, user, step.session, ctx)).toEqual({ kind: "ended" });
    const voided = await unit.deps.db.selectFrom("codes").select(["void_reason", "voided_at"]).where("flow_id", "=", step.session.flow_id!).execute();
    unit.clock.advance(1_000);
    expect(await cancelSignIn(unit.deps, user, step.session, ctx)).toEqual({ kind: "signed-out" });
    expect((await audits(user.login_id)).filter((e) => e === "code.cancelled")).toHaveLength(1);
    expect(await unit.deps.db.selectFrom("codes").select(["void_reason", "voided_at"]).where("flow_id", "=", step.session.flow_id!).execute()).toEqual(voided);
  });

  it("Sign out twice: one signout entry; Sign out after Cancel is signed-out too", async () => {
    const user = await addUser(unit.deps);
    const step = await passwordStep(unit.deps, { loginId: user.login_id, password: user.password }, ctx);
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    expect(await signOut(unit.deps, user, step.session, ctx)).toEqual({ kind: "ended" });
    expect(await signOut(unit.deps, user, step.session, ctx)).toEqual({ kind: "signed-out" });
    expect(await cancelSignIn(unit.deps, user, step.session, ctx)).toEqual({ kind: "signed-out" });
    const events = await audits(user.login_id);
    expect(events.filter((e) => e === "signout")).toHaveLength(1);
    expect(events.filter((e) => e === "code.cancelled")).toHaveLength(0);
  });
});
