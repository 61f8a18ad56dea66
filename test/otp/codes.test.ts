import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { issueCode, verifyCode, voidFlowCodes } from "../../src/otp/codes.ts";
import { createFlow, type Flow } from "../../src/otp/flows.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { scriptedCodes } from "../support/scripted-codes.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe("codes: issue and verify with a fixed clock (SPEC code policy, default settings)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const deps = (...codes: number[]): Deps => ({ ...t.deps, random: scriptedCodes(...codes) });

  async function startFlow(d: Deps, email = "codes@dealer.example"): Promise<{ flow: Flow; userId: string }> {
    const user = await addUser(t.deps, { email });
    const now = t.clock.now();
    const flow = await createFlow(t.deps.db, d.random, { userId: user.id, kind: "signin", email, now });
    return { flow, userId: user.id };
  }
  const issue = (d: Deps, flow: Flow) => d.db.transaction().execute((tx) => issueCode(d, tx, flow, "someone", t.clock.now()));
  const verify = (flow: Flow, code: string) => verifyCode(t.deps, flow.id, code, t.clock.now());

  it("accepts the right code one second before FAMOS_OTP_TTL ends, and only once", async () => {
    const d = deps(123_456);
    const { flow } = await startFlow(d);
    expect(await issue(d, flow)).toMatchObject({ kind: "sent", expiresAt: t.clock.now() + 15 * MINUTE });
    t.clock.advance(15 * MINUTE - SECOND);
    expect(await verify(flow, "123456")).toMatchObject({ kind: "ok" });
    expect(await verify(flow, "123456")).toEqual({ kind: "used" });
  });

  it("refuses the right code one second after FAMOS_OTP_TTL ended, as expired", async () => {
    const d = deps(234_567);
    const { flow } = await startFlow(d);
    await issue(d, flow);
    t.clock.advance(15 * MINUTE + SECOND);
    expect(await verify(flow, "234567")).toEqual({ kind: "expired" });
    expect(await verify(flow, "234567")).toEqual({ kind: "expired" });
  });

  it("voids a code after 5 wrong tries: the 6th attempt, with the right code, fails", async () => {
    const d = deps(345_678);
    const { flow } = await startFlow(d);
    await issue(d, flow);
    for (const left of [4, 3, 2, 1, 0]) {
      expect(await verify(flow, "000000")).toMatchObject({ kind: "wrong", triesLeft: left, earlierSentAt: null });
    }
    expect(await verify(flow, "345678")).toEqual({ kind: "void" });
    const row = await t.deps.db.selectFrom("codes").selectAll().where("flow_id", "=", flow.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ tries: 5, void_reason: "tries", consumed_at: null });
  });

  it("tells an earlier code apart after a regenerate, counts it as a wrong try, and keeps the new code working", async () => {
    const d = deps(111_111, 222_222);
    const { flow } = await startFlow(d);
    const first = await issue(d, flow);
    t.clock.advance(2 * MINUTE);
    const second = await issue(d, flow);
    expect(second.kind).toBe("sent");
    const outcome = await verify(flow, "111111");
    // Both times: when the typed (earlier) code went, and when the code to use went.
    expect(outcome).toEqual({
      kind: "wrong",
      triesLeft: 4,
      earlierSentAt: first.kind === "sent" ? first.sentAt : -1,
      currentSentAt: second.kind === "sent" ? second.sentAt : -1,
    });
    const codes = await t.deps.db.selectFrom("codes").selectAll().where("flow_id", "=", flow.id).orderBy("created_at").execute();
    expect(codes.map((c) => [c.void_reason, c.tries])).toEqual([["regenerated", 0], [null, 1]]);
    expect(await verify(flow, "222222")).toMatchObject({ kind: "ok" });
  });

  it("stores codes only as an HMAC: no 6-digit code appears in the codes table", async () => {
    const d = deps(493_817);
    const { flow } = await startFlow(d);
    await issue(d, flow);
    const rows = await t.deps.db.selectFrom("codes").selectAll().where("flow_id", "=", flow.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain("493817");
    const audit = await t.deps.db.selectFrom("audit").select("detail").execute();
    expect(JSON.stringify(audit)).not.toContain("493817");
  });

  it("makes a regenerate wait FAMOS_OTP_RESEND_WAIT: refused at 29 s, sent at 30 s", async () => {
    const d = deps();
    const { flow } = await startFlow(d);
    const sentAt = t.clock.now();
    await issue(d, flow);
    t.clock.advance(29 * SECOND);
    expect(await issue(d, flow)).toEqual({ kind: "wait", retryAt: sentAt + 30 * SECOND });
    t.clock.advance(SECOND);
    expect(await issue(d, flow)).toMatchObject({ kind: "sent" });
  });

  it("sends at most FAMOS_OTP_PER_ATTEMPT (5) codes per sign-in, the first included", async () => {
    const d = deps();
    const { flow } = await startFlow(d);
    for (let n = 1; n <= 5; n += 1) {
      expect(await issue(d, flow), `code ${n}`).toMatchObject({ kind: "sent" });
      t.clock.advance(30 * SECOND);
    }
    expect(await issue(d, flow)).toEqual({ kind: "attempt-cap" });
    const flowRow = await t.deps.db.selectFrom("flows").select("codes_sent").where("id", "=", flow.id).executeTakeFirstOrThrow();
    expect(flowRow.codes_sent).toBe(5);
  });

  it("sends at most FAMOS_OTP_PER_HOUR (10) codes per account across sign-ins, and says when the next may go", async () => {
    const d = deps();
    const { flow, userId } = await startFlow(d);
    const firstSentAt = t.clock.now();
    for (let n = 1; n <= 5; n += 1) {
      expect(await issue(d, flow)).toMatchObject({ kind: "sent" });
      t.clock.advance(30 * SECOND);
    }
    const second = await createFlow(t.deps.db, d.random, { userId, kind: "signin", email: flow.email, now: t.clock.now() });
    for (let n = 1; n <= 5; n += 1) {
      expect(await issue(d, second)).toMatchObject({ kind: "sent" });
      t.clock.advance(30 * SECOND);
    }
    const third = await createFlow(t.deps.db, d.random, { userId, kind: "signin", email: flow.email, now: t.clock.now() });
    expect(await issue(d, third)).toEqual({ kind: "hour-cap", retryAt: firstSentAt + 60 * MINUTE });
    t.clock.set(firstSentAt + 60 * MINUTE + SECOND);
    expect(await issue(d, third)).toMatchObject({ kind: "sent" });
  });

  it("finds no code to confirm once the flow's codes are voided (Cancel)", async () => {
    const d = deps(654_321);
    const { flow } = await startFlow(d);
    await issue(d, flow);
    await voidFlowCodes(t.deps.db, flow.id, "cancelled", t.clock.now());
    expect(await verify(flow, "654321")).toEqual({ kind: "void" });
  });
});
