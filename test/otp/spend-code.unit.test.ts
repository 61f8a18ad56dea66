import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { explainMissingCode, issueCode, lastCodeUsed, matchCode, spendCode, useCode, voidFlowCodes, type CodeMatch } from "../../src/otp/codes.ts";
import { createFlow, type Flow } from "../../src/otp/flows.ts";
import { addUser } from "../support/app.ts";
import { scriptedCodes } from "../support/scripted-codes.ts";
import { createUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;


/**
 * The two rules of a code that can no longer be used (unit tier, in-memory SQLite, fixed clock): why a right
 * code lost its use (spendCode: "used" by its twin, "voided" by Cancel, Regenerate or a last wrong try), and
 * why a code typed in a flow with no live code is refused (explainMissingCode: "used" only for the used code
 * itself, ASVS 2.8.5; "spent" for any other; "expired"; "void").
 */
describe("spendCode and explainMissingCode (unit tier)", () => {
  let unit: Awaited<ReturnType<typeof createUnitDeps>>;
  beforeAll(async () => {
    unit = await createUnitDeps();
  });
  afterAll(async () => unit.close());

  const now = () => unit.clock.now();
  async function flowWith(code: number): Promise<{ flow: Flow; deps: Deps }> {
    const deps: Deps = { ...unit.deps, random: scriptedCodes(code) };
    const user = await addUser(unit.deps);
    const flow = await createFlow(unit.deps.db, deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    const sent = await deps.db.transaction().execute((tx) => issueCode(deps, tx, flow, "someone", now()));
    expect(sent.kind).toBe("sent");
    return { flow, deps };
  }
  async function matched(flow: Flow, typed: string): Promise<CodeMatch> {
    const match = await matchCode(unit.deps, flow.id, typed, now());
    if (match.kind !== "match") throw new Error(`not a match: ${match.kind}`);
    return match;
  }
  const codeRow = (id: string) => unit.deps.db.selectFrom("codes").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const explain = (flow: Flow, typed: string | null) => explainMissingCode(unit.deps, flow.id, typed);

  it("spends a right code once: 'consumed' (the code used up, now), then 'used' for its twin, which changes nothing", async () => {
    const { flow } = await flowWith(101_101);
    const match = await matched(flow, "101101");
    const twin = await matched(flow, "101101");
    expect(await spendCode(unit.deps.db, match, now())).toBe("consumed");
    expect(await codeRow(match.codeId)).toMatchObject({ consumed_at: now(), voided_at: null });
    unit.clock.advance(MINUTE);
    expect(await spendCode(unit.deps.db, twin, now())).toBe("used");
    expect(await codeRow(match.codeId)).toMatchObject({ consumed_at: now() - MINUTE, voided_at: null });
  });

  it("says 'voided' when the right code was voided before its use (Cancel, Regenerate): never used, never consumed", async () => {
    const { flow } = await flowWith(202_202);
    const match = await matched(flow, "202202");
    await voidFlowCodes(unit.deps.db, flow.id, "cancelled", now());
    expect(await spendCode(unit.deps.db, match, now())).toBe("voided");
    expect(await codeRow(match.codeId)).toMatchObject({ consumed_at: null, void_reason: "cancelled" });
  });

  it("says 'voided' for a code whose row is gone (no use to name)", async () => {
    const { flow } = await flowWith(303_303);
    const match = await matched(flow, "303303");
    expect(await spendCode(unit.deps.db, { ...match, codeId: "no-such-code" }, now())).toBe("voided");
  });

  it("'used' only for the used code typed again; any other code, or a malformed one (null), is 'spent'", async () => {
    const { flow } = await flowWith(404_404);
    expect(await useCode(unit.deps.db, await matched(flow, "404404"), now())).toBe(true);
    expect(await explain(flow, "404404")).toEqual({ kind: "used" });
    expect(await explain(flow, "404405")).toEqual({ kind: "spent" });
    expect(await explain(flow, null)).toEqual({ kind: "spent" });
    // matchCode asks the same rule once no code is live.
    expect(await matchCode(unit.deps, flow.id, "404404", now())).toEqual({ kind: "used" });
    expect(await matchCode(unit.deps, flow.id, "000000", now())).toEqual({ kind: "spent" });
    expect(await lastCodeUsed(unit.deps.db, flow.id)).toBe(true);
  });

  it("compares the typed code with the flow's own used code: the same digits used in another flow are not this one's", async () => {
    const one = await flowWith(505_505);
    const two = await flowWith(505_505);
    expect(await useCode(unit.deps.db, await matched(two.flow, "505505"), now())).toBe(true);
    await voidFlowCodes(unit.deps.db, one.flow.id, "cancelled", now());
    expect(await explain(one.flow, "505505")).toEqual({ kind: "void" });
    expect(await lastCodeUsed(unit.deps.db, one.flow.id)).toBe(false);
  });

  it("reads the flow's last code: a used one followed by a newer voided one is 'void', not 'used'", async () => {
    const { flow, deps } = await flowWith(606_606);
    expect(await useCode(unit.deps.db, await matched(flow, "606606"), now())).toBe(true);
    unit.clock.advance(MINUTE);
    const again: Deps = { ...deps, random: scriptedCodes(707_707) };
    await again.db.transaction().execute((tx) => issueCode(again, tx, flow, "someone", now()));
    await voidFlowCodes(unit.deps.db, flow.id, "cancelled", now());
    expect(await explain(flow, "606606")).toEqual({ kind: "void" });
    expect(await explain(flow, "707707")).toEqual({ kind: "void" });
    expect(await lastCodeUsed(unit.deps.db, flow.id)).toBe(false);
  });

  it("'expired' for a flow whose last code expired, 'void' for one voided otherwise or never sent", async () => {
    const expired = await flowWith(808_808);
    unit.clock.advance(15 * MINUTE);
    expect(await matchCode(unit.deps, expired.flow.id, "808808", now())).toEqual({ kind: "expired" });
    expect(await explain(expired.flow, "808808")).toEqual({ kind: "expired" });
    expect(await explain(expired.flow, null)).toEqual({ kind: "expired" });

    const voided = await flowWith(909_909);
    for (let i = 0; i < 5; i++) await matchCode(unit.deps, voided.flow.id, "000000", now());
    expect(await explain(voided.flow, "909909")).toEqual({ kind: "void" });

    const user = await addUser(unit.deps);
    const none = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    expect(await explain(none, "123456")).toEqual({ kind: "void" });
    expect(await lastCodeUsed(unit.deps.db, none.id)).toBe(false);
  });
});
