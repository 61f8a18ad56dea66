import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { hourCap, issueCode, verifyCode, voidFlowCodes, voidUserCodes } from "../../src/otp/codes.ts";
import { currentCode, flowWithCurrentCode } from "../../src/otp/current-code.ts";
import { createFlow, findFlow, finishFlow, type Flow } from "../../src/otp/flows.ts";
import { addUser } from "../support/app.ts";
import { scriptedCodes } from "../support/scripted-codes.ts";
import { createUnitDeps } from "../support/unit-app.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;


describe("codes (unit tier: in-memory SQLite, fixed clock)", () => {
  let unit: Awaited<ReturnType<typeof createUnitDeps>>;
  beforeAll(async () => {
    unit = await createUnitDeps();
  });
  afterAll(async () => unit.close());

  const now = () => unit.clock.now();
  const withCodes = (...codes: number[]): Deps => ({ ...unit.deps, random: scriptedCodes(...codes) });
  async function startFlow(d: Deps = unit.deps): Promise<Flow> {
    const user = await addUser(unit.deps);
    return createFlow(unit.deps.db, d.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
  }
  const issue = (d: Deps, flow: Flow) => d.db.transaction().execute((tx) => issueCode(d, tx, flow, "someone", now()));
  const verify = (flow: Flow, code: string) => verifyCode(unit.deps, flow.id, code, now());
  const codeRows = (flow: Flow) => unit.deps.db.selectFrom("codes").selectAll().where("flow_id", "=", flow.id).orderBy("created_at").execute();

  it("sends a code that expires FAMOS_OTP_TTL later, with its mail queued in the same transaction", async () => {
    const d = withCodes(111_111);
    const flow = await startFlow(d);
    const sent = await issue(d, flow);
    expect(sent).toMatchObject({ kind: "sent", sentAt: now(), expiresAt: now() + 15 * MINUTE });
    if (sent.kind !== "sent") throw new Error("not sent");
    const mail = await unit.deps.db.selectFrom("outbox").selectAll().where("id", "=", sent.outboxId).executeTakeFirstOrThrow();
    expect(mail).toMatchObject({ recipient: flow.email, kind: "code.signin", state: "queued" });
    expect(mail.text_body).toContain("111111");
    expect(await codeRows(flow)).toEqual([expect.objectContaining({ id: sent.codeId, tries: 0, consumed_at: null, voided_at: null, email: flow.email, outbox_id: sent.outboxId })]);
    expect(await unit.deps.db.selectFrom("flows").select(["codes_sent", "last_code_at"]).where("id", "=", flow.id).executeTakeFirst()).toEqual({ codes_sent: 1, last_code_at: now() });
  });

  it("accepts the right code until the last millisecond of FAMOS_OTP_TTL, refuses it from then on as expired", async () => {
    const d = withCodes(222_222, 222_223);
    const first = await startFlow(d);
    await issue(d, first);
    unit.clock.advance(15 * MINUTE - 1);
    expect(await verify(first, "222222")).toMatchObject({ kind: "ok" });
    const second = await startFlow(d);
    await issue(d, second);
    unit.clock.advance(15 * MINUTE);
    expect(await verify(second, "222223")).toEqual({ kind: "expired" });
    expect((await codeRows(second))[0]).toMatchObject({ void_reason: "expired", voided_at: now() });
    expect(await verify(second, "222223")).toEqual({ kind: "expired" });
  });

  it("consumes the right code once: the second use is 'used', and two racing uses make exactly one 'ok' (consumed_at IS NULL)", async () => {
    const d = withCodes(333_333, 333_334);
    const flow = await startFlow(d);
    await issue(d, flow);
    const [a, b] = await Promise.all([verify(flow, "333333"), verify(flow, "333333")]);
    expect([a.kind, b.kind].sort()).toEqual(["ok", "used"]);
    expect((await codeRows(flow))[0]).toMatchObject({ consumed_at: now(), tries: 0 });
    expect(await verify(flow, "333333")).toEqual({ kind: "used" });
  });

  it("never consumes a code voided while its check was under way (voided_at IS NULL on the consuming update)", async () => {
    const d = withCodes(444_444);
    const flow = await startFlow(d);
    await issue(d, flow);
    const [outcome] = await Promise.all([verify(flow, "444444"), voidFlowCodes(unit.deps.db, flow.id, "cancelled", now())]);
    expect(outcome).toEqual({ kind: "used" });
    expect((await codeRows(flow))[0]).toMatchObject({ consumed_at: null, void_reason: "cancelled" });
  });

  it("counts wrong tries, tells how many are left, and voids the code at FAMOS_OTP_TRIES (5): the right code is then 'void'", async () => {
    const d = withCodes(555_555);
    const flow = await startFlow(d);
    const sent = await issue(d, flow);
    for (const left of [4, 3, 2, 1, 0]) {
      expect(await verify(flow, "000000")).toEqual({ kind: "wrong", triesLeft: left, earlierSentAt: null, currentSentAt: sent.kind === "sent" ? sent.sentAt : -1 });
    }
    expect((await codeRows(flow))[0]).toMatchObject({ tries: 5, voided_at: now(), void_reason: "tries", consumed_at: null });
    expect(await verify(flow, "555555")).toEqual({ kind: "void" });
  });

  it("leaves a code live after 4 wrong tries: the right one still works", async () => {
    const d = withCodes(666_666);
    const flow = await startFlow(d);
    await issue(d, flow);
    for (let i = 0; i < 4; i++) await verify(flow, "000001");
    expect((await codeRows(flow))[0]).toMatchObject({ tries: 4, voided_at: null, void_reason: null });
    expect(await verify(flow, "666666")).toMatchObject({ kind: "ok" });
  });

  it("counts racing wrong tries one by one; none finds more than the tries left", async () => {
    const d = withCodes(777_777);
    const flow = await startFlow(d);
    await issue(d, flow);
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => verify(flow, "000002")));
    const left = outcomes.map((o) => (o.kind === "wrong" ? o.triesLeft : -1)).sort();
    expect(left).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    expect((await codeRows(flow))[0]).toMatchObject({ tries: 5, void_reason: "tries" });
  });

  it("after Regenerate, names an earlier code of the same flow (counted as a wrong try) and keeps the new one working", async () => {
    const d = withCodes(123_123, 456_456);
    const flow = await startFlow(d);
    const first = await issue(d, flow);
    unit.clock.advance(30 * SECOND);
    const second = await issue(d, { ...flow });
    expect(second.kind).toBe("sent");
    const rows = await codeRows(flow);
    expect(rows[0]).toMatchObject({ void_reason: "regenerated", voided_at: now() });
    const wrong = await verify(flow, "123123");
    expect(wrong).toEqual({ kind: "wrong", triesLeft: 4, earlierSentAt: first.kind === "sent" ? first.sentAt : -1, currentSentAt: now() });
    expect(await verify(flow, "456456")).toMatchObject({ kind: "ok" });
  });

  it("binds a code to its flow: the right digits for another sign-in are wrong here", async () => {
    const d = withCodes(808_080, 909_090);
    const one = await startFlow(d);
    const two = await startFlow(d);
    await issue(d, one);
    await issue(d, two);
    expect(await verify(one, "909090")).toMatchObject({ kind: "wrong", earlierSentAt: null });
    expect(await verify(two, "909090")).toMatchObject({ kind: "ok" });
  });

  it("makes a regenerate wait FAMOS_OTP_RESEND_WAIT: refused 1 ms before, with the time it may go, sent at 30 s", async () => {
    const d = withCodes();
    const flow = await startFlow(d);
    await issue(d, flow);
    const sentAt = now();
    unit.clock.advance(30 * SECOND - 1);
    expect(await issue(d, flow)).toEqual({ kind: "wait", retryAt: sentAt + 30 * SECOND });
    unit.clock.advance(1);
    expect(await issue(d, flow)).toMatchObject({ kind: "sent" });
  });

  it("sends no code for a flow finished since it was read (confirmed, cancelled, replaced): no count, no code, no mail", async () => {
    const d = withCodes();
    const flow = await startFlow(d);
    await issue(d, flow);
    unit.clock.advance(30 * SECOND);
    await finishFlow(unit.deps.db, flow.id, now());
    const mails = () => unit.deps.db.selectFrom("outbox").select("id").where("user_id", "=", flow.user_id).execute();
    const before = await mails();
    expect(await issue(d, flow)).toEqual({ kind: "no-flow" });
    expect(await codeRows(flow)).toHaveLength(1);
    expect(await mails()).toEqual(before);
    expect(await unit.deps.db.selectFrom("flows").select("codes_sent").where("id", "=", flow.id).executeTakeFirst()).toEqual({ codes_sent: 1 });
  });

  it("sends at most FAMOS_OTP_PER_ATTEMPT (5) codes per sign-in, the first included", async () => {
    const d = withCodes();
    const flow = await startFlow(d);
    for (let i = 0; i < 5; i++) {
      expect(await issue(d, flow)).toMatchObject({ kind: "sent" });
      unit.clock.advance(30 * SECOND);
    }
    expect(await issue(d, flow)).toEqual({ kind: "attempt-cap" });
    expect(await codeRows(flow)).toHaveLength(5);
  });

  it("sends at most FAMOS_OTP_PER_HOUR (10) codes per account in any hour, and says when the next may go: an hour after the oldest", async () => {
    // Its own store: the hourly count is a statement prepared once per store (issue 17), so this test
    // is the one that builds it, and a mutation tool charging coverage per test runs this test for it.
    const own = await createUnitDeps();
    try {
      const user = await addUser(own.deps);
      const at = () => own.clock.now();
      const issueNew = async () => {
        const flow = await createFlow(own.deps.db, own.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: at() });
        const outcome = await own.deps.db.transaction().execute((tx) => issueCode(own.deps, tx, flow, "someone", at()));
        // Its mail went (a code whose mail never left is not counted once it is dead: undelivered-codes-cap.unit).
        await own.deps.db.updateTable("outbox").set({ state: "sent", sent_at: at() }).where("user_id", "=", user.id).execute();
        return outcome;
      };
      const firstAt = at();
      for (let i = 0; i < 10; i++) {
        expect(await issueNew()).toMatchObject({ kind: "sent" });
        own.clock.advance(MINUTE);
      }
      // The window holds codes sent at firstAt … firstAt + 9 min: the next may go when the oldest leaves it.
      expect(await issueNew()).toEqual({ kind: "hour-cap", retryAt: firstAt + 60 * MINUTE });
      own.clock.set(firstAt + 60 * MINUTE - 1);
      expect(await issueNew()).toEqual({ kind: "hour-cap", retryAt: firstAt + 60 * MINUTE });
      own.clock.set(firstAt + 60 * MINUTE);
      expect(await issueNew()).toMatchObject({ kind: "sent" });
      // Full again; now the oldest is the second code, sent a minute after the first.
      expect(await issueNew()).toEqual({ kind: "hour-cap", retryAt: firstAt + 61 * MINUTE });
    } finally {
      await own.close();
    }
  });

  it("has nothing to confirm once the flow's or the user's codes are voided, and a used code stays used", async () => {
    const d = withCodes(100_001, 100_002);
    const cancelled = await startFlow(d);
    await issue(d, cancelled);
    await voidFlowCodes(unit.deps.db, cancelled.id, "cancelled", now());
    expect(await verify(cancelled, "100001")).toEqual({ kind: "void" });
    const used = await startFlow(d);
    await issue(d, used);
    expect(await verify(used, "100002")).toMatchObject({ kind: "ok" });
    await voidUserCodes(unit.deps.db, used.user_id, "password-changed", now());
    expect((await codeRows(used))[0]).toMatchObject({ voided_at: null, void_reason: null });
    expect(await verify(used, "100002")).toEqual({ kind: "used" });
    const never = await startFlow(d);
    expect(await verify(never, "100003")).toEqual({ kind: "void" });
  });

  it("shows the current code with its mail state: the live one, 'delayed' once a delivery try failed", async () => {
    const d = withCodes(200_001);
    const flow = await startFlow(d);
    expect(await currentCode(unit.deps.db, flow.id)).toBeUndefined();
    const sent = await issue(d, flow);
    if (sent.kind !== "sent") throw new Error("not sent");
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ id: sent.codeId, mail_state: "queued", tries: 0 });
    await unit.deps.db.updateTable("outbox").set({ attempts: 1 }).where("id", "=", sent.outboxId).execute();
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ id: sent.codeId, mail_state: "delayed" });
    // Its last try's kind the relay's refusal to relay to the address (outbox.last_fault "relaying", as the sender
    // records it: smtp-replies.ts mailFaultOf): "notRelayed", waiting (OTP capture keeps asking) or failed; any other
    // kind, or none, leaves it as it was. The stored words are not read (migration 020).
    const refused = (last_fault: string | null, state: "queued" | "failed" = "queued", last_error = "Can't send mail - all recipients were rejected: 554 5.7.1 Relay access denied") =>
      unit.deps.db.updateTable("outbox").set({ last_fault, last_error, state }).where("id", "=", sent.outboxId).execute();
    await refused("relaying", "queued", "whatever words");
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ mail_state: "notRelayed", mail_waiting: true });
    await refused("relaying", "failed");
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ mail_state: "notRelayed", mail_waiting: false });
    await refused("sender");
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ mail_state: "delayed" });
    await refused(null);
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ mail_state: "delayed" });
    await unit.deps.db.updateTable("outbox").set({ state: "sent" }).where("id", "=", sent.outboxId).execute();
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ mail_state: "sent" });
  });

  it("shows the current code's mail as 'bounced' once the SMTP server took it and its address bounced hard; a soft bounce changes nothing", async () => {
    const d = withCodes(200_002);
    const flow = await startFlow(d);
    const sent = await issue(d, flow);
    if (sent.kind !== "sent") throw new Error("not sent");
    await unit.deps.db.updateTable("outbox").set({ state: "sent", sent_at: now() }).where("id", "=", sent.outboxId).execute();
    const bounce = (kind: "hard" | "soft") => recordBounce(unit.deps, { outboxId: sent.outboxId, kind, status: kind === "hard" ? "5.1.1" : "4.2.2", reason: "test" }, "webhook");
    expect(await bounce("soft")).toMatchObject({ kind: "recorded" });
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ id: sent.codeId, mail_state: "sent" });
    expect(await bounce("hard")).toMatchObject({ kind: "recorded" });
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ id: sent.codeId, mail_state: "bounced" });
  });
});

describe("codes with FAMOS_OTP_PER_HOUR=0 (no hourly cap) and flows (unit tier)", () => {
  let unit: Awaited<ReturnType<typeof createUnitDeps>>;
  beforeAll(async () => {
    unit = await createUnitDeps({ env: { FAMOS_OTP_PER_HOUR: "0" } });
  });
  afterAll(async () => unit.close());

  it("sends a twelfth code within the hour when the cap is off", async () => {
    const user = await addUser(unit.deps);
    for (let i = 0; i < 12; i++) {
      const flow = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: unit.clock.now() });
      expect(await unit.deps.db.transaction().execute((tx) => issueCode(unit.deps, tx, flow, "someone", unit.clock.now()))).toMatchObject({ kind: "sent" });
      unit.clock.advance(MINUTE);
    }
  });

  it("finishes a flow once: the first finish time stays", async () => {
    const user = await addUser(unit.deps);
    const flow = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "enrol", email: "new@dealer.example", now: unit.clock.now(), returnTo: "/quotation" });
    expect(await findFlow(unit.deps.db, flow.id)).toEqual({ ...flow, finished_at: null, return_to: "/quotation" });
    const first = unit.clock.now();
    await finishFlow(unit.deps.db, flow.id, first);
    await finishFlow(unit.deps.db, flow.id, first + 1000);
    expect((await findFlow(unit.deps.db, flow.id))?.finished_at).toBe(first);
    expect(await findFlow(unit.deps.db, "no-such-flow")).toBeUndefined();
  });
});

describe("the current code with FAMOS_OTP_RESEND_WAIT=0 (two codes in one millisecond; unit tier)", () => {
  let unit: Awaited<ReturnType<typeof createUnitDeps>>;
  beforeAll(async () => {
    unit = await createUnitDeps({ env: { FAMOS_OTP_RESEND_WAIT: "0s" } });
  });
  afterAll(async () => unit.close());

  const now = () => unit.clock.now();
  const issue = (flow: Flow) => unit.deps.db.transaction().execute((tx) => issueCode(unit.deps, tx, flow, "someone", now()));
  const setVoided = (id: string, voidedAt: number | null) =>
    unit.deps.db.updateTable("codes").set({ voided_at: voidedAt, void_reason: voidedAt === null ? null : "regenerated" }).where("id", "=", id).execute();

  it("is the live one of two codes made in the same millisecond, whichever of them was written first", async () => {
    const user = await addUser(unit.deps);
    const flow = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    const first = await issue(flow);
    const second = await issue(flow);
    if (first.kind !== "sent" || second.kind !== "sent") throw new Error("not sent");
    expect(second.sentAt).toBe(first.sentAt);
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ id: second.codeId, voided_at: null, created_at: now() });
    // The other way round: the code written first is the live one, the later row the voided one.
    await setVoided(first.codeId, null);
    await setVoided(second.codeId, now());
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ id: first.codeId, voided_at: null });
    expect(await flowWithCurrentCode(unit.deps.db, flow.id)).toMatchObject({ flow: { id: flow.id, codes_sent: 2 }, code: { id: first.codeId, mail_state: "queued" } });
  });

  it("is the latest code even when it is voided and an older one is not", async () => {
    const user = await addUser(unit.deps);
    const flow = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    const older = await issue(flow);
    unit.clock.advance(1);
    const latest = await issue(flow);
    if (older.kind !== "sent" || latest.kind !== "sent") throw new Error("not sent");
    await setVoided(older.codeId, null);
    await setVoided(latest.codeId, now());
    expect(await currentCode(unit.deps.db, flow.id)).toMatchObject({ id: latest.codeId, void_reason: "regenerated" });
  });

  it("reads a flow without codes as the flow and no code, and no flow as nothing", async () => {
    const user = await addUser(unit.deps);
    const flow = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    expect(await flowWithCurrentCode(unit.deps.db, flow.id)).toEqual({ flow, code: undefined });
    expect(await flowWithCurrentCode(unit.deps.db, "no-such-flow")).toBeUndefined();
  });
});

describe("codes are keyed by FAMOS_SECRET (the code key of src/platform/keys.ts)", () => {
  it("stores a different hash for the same code of the same flow under another secret, and only the issuing secret verifies it", async () => {
    const stored: string[] = [];
    const units = [await createUnitDeps(), await createUnitDeps({ env: { FAMOS_SECRET: "b".repeat(64) } })];
    try {
      for (const unit of units) {
        const d: Deps = { ...unit.deps, random: scriptedCodes(424_242) };
        const user = await addUser(unit.deps, { loginId: "same.user" });
        const flow: Flow = { id: "same-flow", user_id: user.id, kind: "signin", email: user.otp_email!, created_at: 0, codes_sent: 0, last_code_at: null, finished_at: null, return_to: null };
        await unit.deps.db.insertInto("flows").values(flow).execute();
        await d.db.transaction().execute((tx) => issueCode(d, tx, flow, "same.user", unit.clock.now()));
        stored.push((await unit.deps.db.selectFrom("codes").select("code_hash").executeTakeFirstOrThrow()).code_hash);
      }
      expect(stored[0]).toMatch(/^[0-9a-f]{64}$/);
      expect(stored[1]).not.toBe(stored[0]);
      // The other secret's row, moved here, does not verify: the key is the secret's, not a constant.
      await units[0]!.deps.db.updateTable("codes").set({ code_hash: stored[1]! }).execute();
      expect(await verifyCode(units[0]!.deps, "same-flow", "424242", units[0]!.clock.now())).toMatchObject({ kind: "wrong" });
    } finally {
      for (const unit of units) await unit.close();
    }
  });
});

describe("hourCap: the hour's codes, counting every code sent, and the reset's share of them", () => {
  const HOUR = 60 * MINUTE;
  const now = 10 * HOUR;
  const recent = (n: number, resets: number) => ({ n, oldest: now - 50 * MINUTE, resets, oldestReset: resets > 0 ? now - 20 * MINUTE : null });

  it("SPEC Regenerate: every code counts toward FAMOS_OTP_PER_HOUR, the reset's included", () => {
    expect(hourCap(10, false, undefined, now)).toBeNull();
    expect(hourCap(10, false, recent(9, 4), now)).toBeNull();
    expect(hourCap(10, false, recent(10, 5), now)).toBe(now + 10 * MINUTE);
    expect(hourCap(10, true, recent(10, 0), now)).toBe(now + 10 * MINUTE);
  });

  it("SPEC Locks: a reset (a login ID is all it needs) stops at half, leaving the owner's sign-in the rest", () => {
    expect(hourCap(10, true, recent(4, 4), now)).toBeNull();
    expect(hourCap(10, true, recent(5, 5), now)).toBe(now + 40 * MINUTE);
    expect(hourCap(10, false, recent(5, 5), now)).toBeNull();
    expect(hourCap(3, true, recent(1, 1), now)).toBe(now + 40 * MINUTE);
    // One code an hour is the owner's: the reset sends none.
    expect(hourCap(1, true, recent(0, 0), now)).toBe(now + HOUR);
  });
});
