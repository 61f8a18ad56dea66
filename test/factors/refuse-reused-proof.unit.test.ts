import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { checkCode } from "../../src/factors/check-code.ts";
import { refuseReusedProof } from "../../src/factors/check-second-factor.ts";
import { codeReusedLine, finishedByItsCode } from "../../src/factors/code-reuse.ts";
import { issueCode, voidFlowCodes } from "../../src/otp/codes.ts";
import { createFlow, findFlow, finishFlow, type Flow } from "../../src/otp/flows.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { reserveAttempt } from "../../src/regulation/throttle.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { loginKey, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { loginCounterKey } from "../support/login-counter.ts";
import { scriptedCodes } from "../support/scripted-codes.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;


/**
 * A proof arriving again (ASVS 2.8.5) at its one home, refuseReusedProof, and the emailed code's line of it
 * (codeReusedLine, finishedByItsCode), unit tier: the try it reserved given back, the line written only when
 * asked for, the holder told only when asked for.
 */
describe("refuseReusedProof and the code's reuse (unit tier)", () => {
  const unit = useUnitDeps();
  let n = 0;
  const ctx = (): RequestContext => ({ ip: `203.0.113.${++n % 250}`, userAgent: "reuse-test" });
  const now = () => unit.now();
  const counter = (loginId: string) =>
    unit.db.selectFrom("throttles").select(["failures", "locked_until"]).where("key", "=", loginCounterKey("code", loginId)).executeTakeFirst();
  const audits = (subject: string) => unit.db.selectFrom("audit").select(["event", "actor", "ip", "user_agent", "detail"]).where("subject", "=", subject).orderBy("id").execute();
  const notices = (userId: string) => unit.db.selectFrom("outbox").select(["kind", "recipient"]).where("user_id", "=", userId).where("kind", "like", "notice.%").execute();

  async function signInFlow(user: User, code: number, kind: Flow["kind"] = "signin"): Promise<Flow> {
    const deps: Deps = { ...unit.deps, random: scriptedCodes(code) };
    const flow = await createFlow(unit.db, deps.random, { userId: user.id, kind, email: user.otp_email!, now: now() });
    await unit.db.transaction().execute((tx) => issueCode(deps, tx, flow, "someone", now()));
    return flow;
  }
  const typeCode = (user: User, flow: Flow, typed: string, c = ctx()) =>
    checkCode(unit.deps, { user, flow, typed }, c, async (tx, at) => {
      await finishFlow(tx, flow.id, at);
      return "in";
    });
  const reserve = (user: User, c: RequestContext) =>
    reserveAttempt(unit.db, "code", { loginKey: loginDigest(unit.deps.keys, loginKey(user.login_id)), ip: c.ip, deviceId: null }, now(), unit.deps.config);

  it("gives the reserved try back, writes the line given and tells the holder when asked: each only when asked", async () => {
    const user = await addUser(unit.deps);
    const c = ctx();
    // One failure counted before: the reuse's reservation leaves it as it was.
    const first = await reserve(user, c);
    if (!first.ok) throw new Error("refused");
    const reservation = await reserve(user, c);
    if (!reservation.ok) throw new Error("refused");
    expect(await counter(user.login_id)).toMatchObject({ failures: 2 });
    await refuseReusedProof(unit.deps, reservation, now(), {});
    expect(await counter(user.login_id)).toMatchObject({ failures: 1 });
    expect(await audits(user.login_id)).toEqual([]);
    expect(await notices(user.id)).toEqual([]);

    const again = await reserve(user, c);
    if (!again.ok) throw new Error("refused");
    const line = { event: "code.reused" as const, detail: { purpose: "signin" }, actor: user.login_id, subject: user.login_id, ip: c.ip, userAgent: c.userAgent };
    await refuseReusedProof(unit.deps, again, now(), { audit: line });
    expect(await counter(user.login_id)).toMatchObject({ failures: 1 });
    expect((await audits(user.login_id)).map((a) => [a.event, a.actor, a.ip, a.user_agent, JSON.parse(a.detail)])).toEqual([
      ["code.reused", user.login_id, c.ip, c.userAgent, { purpose: "signin" }],
    ]);
    expect(await notices(user.id)).toEqual([]);

    const told = await reserve(user, c);
    if (!told.ok) throw new Error("refused");
    await refuseReusedProof(unit.deps, told, now(), { tell: { user, code: "app" } });
    expect(await counter(user.login_id)).toMatchObject({ failures: 1 });
    expect(await audits(user.login_id)).toHaveLength(1);
    expect(await notices(user.id)).toEqual([{ kind: "notice.code-reused", recipient: user.otp_email }]);
  });

  it("names the flow's purpose in the emailed code's line (codeReusedLine)", () => {
    expect(codeReusedLine({ kind: "signin" })).toEqual({ event: "code.reused", detail: { purpose: "signin" } });
    expect(codeReusedLine({ kind: "email-change" })).toEqual({ event: "code.reused", detail: { purpose: "email-change" } });
  });

  it("the used code typed again: 'used', counted nothing, one code.reused line of its purpose, no mail; another code there: refused, no line", async () => {
    const user = await addUser(unit.deps);
    const flow = await signInFlow(user, 121_212);
    expect(await typeCode(user, flow, "121212")).toEqual({ kind: "ok", value: "in" });
    // A wrong code in a newer flow: one failure on the login ID's counter.
    const newer = await signInFlow(user, 343_434);
    expect(await typeCode(user, newer, "000000")).toMatchObject({ kind: "wrong" });
    expect(await counter(user.login_id)).toMatchObject({ failures: 1 });
    const c = ctx();
    unit.clock.advance(MINUTE);
    expect(await typeCode(user, flow, "121212", c)).toEqual({ kind: "used" });
    expect(await counter(user.login_id)).toMatchObject({ failures: 1 });
    const lines = (await audits(user.login_id)).filter((a) => a.event === "code.reused");
    expect(lines.map((a) => [a.ip, a.user_agent, JSON.parse(a.detail)])).toEqual([[c.ip, c.userAgent, { purpose: "signin" }]]);
    expect(await notices(user.id)).toEqual([]);

    expect(await typeCode(user, flow, "565656")).toEqual({ kind: "used" });
    expect(await counter(user.login_id)).toMatchObject({ failures: 1 });
    expect((await audits(user.login_id)).filter((a) => a.event === "code.reused")).toHaveLength(1);
  });

  it("a flow finished by its own code only: not one never finished, nor one finished after its code was voided, nor none", async () => {
    const user = await addUser(unit.deps);
    expect(await finishedByItsCode(unit.db, undefined)).toBe(false);
    expect(await finishedByItsCode(unit.db, null)).toBe(false);

    const used = await signInFlow(user, 787_878, "email-change");
    expect(await typeCode(user, used, "787878")).toEqual({ kind: "ok", value: "in" });
    expect(await finishedByItsCode(unit.db, await findFlow(unit.db, used.id))).toBe(true);

    const open = await signInFlow(user, 909_090, "email-change");
    expect(await finishedByItsCode(unit.db, await findFlow(unit.db, open.id))).toBe(false);
    // Its code used, the flow not (yet) finished: the finish is what makes a code typed after it a replay.
    await unit.db.updateTable("codes").set({ consumed_at: now() }).where("flow_id", "=", open.id).execute();
    expect(await finishedByItsCode(unit.db, await findFlow(unit.db, open.id))).toBe(false);

    const cancelled = await signInFlow(user, 919_191, "email-change");
    await voidFlowCodes(unit.db, cancelled.id, "cancelled", now());
    await finishFlow(unit.db, cancelled.id, now());
    expect(await finishedByItsCode(unit.db, await findFlow(unit.db, cancelled.id))).toBe(false);
  });
});
