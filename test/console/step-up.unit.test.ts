import { describe, expect, it } from "vitest";
import { CONSOLE_FRESHNESS, CONSOLE_RECENT_CODE_MS, PROFILE_FRESHNESS, provenRecently } from "../../src/profile/reauthenticate.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { consoleStepUp } from "../../src/support/step-up.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const HOUR = 60 * 60_000;

/**
 * The console's step-up (src/support/step-up.ts over requireFreshProof with CONSOLE_FRESHNESS) at its
 * edges, without the web layer: fresh for exactly less than an hour after the session's code or its
 * own step-up password, the password then asked, counted and remembered, and each password typed
 * audited with the action it was asked for. test/console/step-up*.test.ts walk it through the console.
 */
describe("the console's step-up (unit tier)", () => {
  const unit = useUnitDeps();
  const now = () => unit.clock.now();
  const ctx: RequestContext = { ip: "192.0.2.44", userAgent: "step-up-unit" };
  const ACTION = "POST /support/users/:id/unlock";

  async function staffSession(times: { verifiedAt?: number | null; steppedUpAt?: number | null } = {}): Promise<{ user: User & { password: string }; session: Session }> {
    const user = await addUser(unit.deps, { role: "support" });
    const made = await createSession(unit.deps.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    const set = { verified_at: times.verifiedAt ?? null, stepped_up_at: times.steppedUpAt ?? null };
    await unit.db.updateTable("sessions").set(set).where("id", "=", made.session.id).execute();
    return { user, session: { ...made.session, ...set } };
  }
  const stepUpAudits = (login: string) =>
    unit.db.selectFrom("audit").select(["event", "actor", "subject", "ip", "user_agent", "detail", "time"]).where("actor", "=", login).where("event", "like", "console.step-up%").orderBy("id").execute();
  const steppedUpAt = async (session: Session) => (await unit.db.selectFrom("sessions").select("stepped_up_at").where("id", "=", session.id).executeTakeFirstOrThrow()).stepped_up_at;

  it("is an hour, and remembers the step-up's own password", () => {
    expect(CONSOLE_RECENT_CODE_MS).toBe(3_600_000);
    expect(CONSOLE_FRESHNESS).toEqual({ withinMs: 3_600_000, remembersPassword: true });
    expect(PROFILE_FRESHNESS).toEqual({ withinMs: 15 * 60_000, remembersPassword: false });
  });

  it("provenRecently: a code or a step-up less than the window ago, not at it; Profile's rule ignores the step-up", async () => {
    const { session } = await staffSession();
    const at = now();
    const s = (verified: number | null, stepped: number | null): Session => ({ ...session, verified_at: verified, stepped_up_at: stepped });
    expect(provenRecently(s(null, null), at, CONSOLE_FRESHNESS)).toBe(false);
    expect(provenRecently(s(at - HOUR + 1, null), at, CONSOLE_FRESHNESS)).toBe(true);
    expect(provenRecently(s(at - HOUR, null), at, CONSOLE_FRESHNESS)).toBe(false);
    expect(provenRecently(s(null, at - HOUR + 1), at, CONSOLE_FRESHNESS)).toBe(true);
    expect(provenRecently(s(null, at), at, CONSOLE_FRESHNESS)).toBe(true);
    expect(provenRecently(s(null, at - HOUR), at, CONSOLE_FRESHNESS)).toBe(false);
    expect(provenRecently(s(at - HOUR, at - HOUR), at, CONSOLE_FRESHNESS)).toBe(false);
    // Profile's: the step-up password opens nothing, however recent.
    expect(provenRecently(s(null, at), at, PROFILE_FRESHNESS)).toBe(false);
    expect(provenRecently(s(at - HOUR, at), at, PROFILE_FRESHNESS)).toBe(false);
  });

  it("a code confirmed less than an hour ago is enough: no password, nothing audited or counted", async () => {
    const { user, session } = await staffSession({ verifiedAt: now() - HOUR + 1 });
    expect(await consoleStepUp(unit.deps, { user, session }, null, ctx, ACTION)).toEqual({ kind: "ok" });
    // A password typed anyway is not tried (nor audited) while the code is fresh.
    expect(await consoleStepUp(unit.deps, { user, session }, "wrong password here", ctx, ACTION)).toEqual({ kind: "ok" });
    expect(await stepUpAudits(user.login_id)).toEqual([]);
    expect(await steppedUpAt(session)).toBeNull();
  });

  it("at exactly an hour the password is asked, and nothing typed is audited", async () => {
    const { user, session } = await staffSession({ verifiedAt: now() - HOUR });
    expect(await consoleStepUp(unit.deps, { user, session }, null, ctx, ACTION)).toEqual({ kind: "password-needed" });
    expect(await stepUpAudits(user.login_id)).toEqual([]);
  });

  it("the right password passes, is audited with the action and no reason, and opens an hour of its own", async () => {
    const { user, session } = await staffSession({ verifiedAt: now() - 2 * HOUR });
    expect(await consoleStepUp(unit.deps, { user, session }, user.password, ctx, ACTION)).toEqual({ kind: "ok", by: "password" });
    const typedAt = now();
    const audits = await stepUpAudits(user.login_id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ event: "console.step-up-passed", actor: user.login_id, subject: user.login_id, ip: "192.0.2.44", user_agent: "step-up-unit", time: typedAt });
    expect(JSON.parse(audits[0]!.detail)).toEqual({ action: ACTION });
    expect(await steppedUpAt(session)).toBe(typedAt);

    // Fresh by that password: the next change passes without it, and no step-up took place.
    const remembered: Session = { ...session, stepped_up_at: typedAt };
    unit.clock.advance(HOUR - 1);
    expect(await consoleStepUp(unit.deps, { user, session: remembered }, null, ctx, ACTION)).toEqual({ kind: "ok" });
    expect(await stepUpAudits(user.login_id)).toHaveLength(1);
    unit.clock.advance(1);
    expect(await consoleStepUp(unit.deps, { user, session: remembered }, null, ctx, ACTION)).toEqual({ kind: "password-needed" });
  });

  it("a wrong password is refused and audited as wrong; once paused, as locked", async () => {
    const { user, session } = await staffSession({ verifiedAt: now() - 2 * HOUR });
    expect(await consoleStepUp(unit.deps, { user, session }, "wrong password here", ctx, ACTION)).toEqual({ kind: "password-wrong" });
    const [wrong] = await stepUpAudits(user.login_id);
    expect(wrong).toMatchObject({ event: "console.step-up-failed", actor: user.login_id, subject: user.login_id, ip: "192.0.2.44", user_agent: "step-up-unit" });
    expect(JSON.parse(wrong!.detail)).toEqual({ action: ACTION, reason: "wrong" });
    expect(await steppedUpAt(session)).toBeNull();
    for (let i = 0; i < 4; i += 1) await consoleStepUp(unit.deps, { user, session }, "wrong password here", ctx, ACTION);
    const locked = await consoleStepUp(unit.deps, { user, session }, user.password, ctx, ACTION);
    expect(locked).toMatchObject({ kind: "locked", scope: "login-id" });
    const audits = await stepUpAudits(user.login_id);
    expect(audits.map((a) => a.event)).toEqual([...Array<string>(6).fill("console.step-up-failed")]);
    expect(JSON.parse(audits.at(-1)!.detail)).toEqual({ action: ACTION, reason: "locked" });
    expect(await steppedUpAt(session)).toBeNull();
  });
});
