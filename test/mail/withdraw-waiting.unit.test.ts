import { describe, expect, it } from "vitest";
import { WITHDRAWN_LEAVER } from "../../src/mail/leaver-mail.ts";
import { claimDueMail, enqueueMail, findMail, withdrawWaitingMail, WITHDRAWN, type OutboxMessage } from "../../src/mail/outbox.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { addUser } from "../support/app.ts";
import { logStatements } from "../support/statement-log.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const LEASE = 60_000;

/**
 * A claimed message that waited for an SMTP connection is asked both rules again before it goes, in
 * one statement: its code dead (code mail: WITHDRAWN, bodies emptied only when scrubbing) or its
 * account disabled (other mail: WITHDRAWN_LEAVER, bodies emptied), and only while this claim holds it.
 */
describe("withdrawWaitingMail (unit tier)", () => {
  const unit = useUnitDeps();
  const db = () => unit.deps.db;
  const now = () => unit.clock.now();

  /** A claimed code mail of a new account, and the code's id. */
  async function claimedCodeMail(): Promise<{ claim: OutboxMessage; codeId: string; userId: string }> {
    const user = await addUser(unit.deps);
    const flow = await createFlow(db(), unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    await issueCode(unit.deps, db(), flow, user.login_id, now());
    const claim = (await claimDueMail(db(), "sqlite", now(), LEASE, 50)).find((m) => m.user_id === user.id)!;
    const code = await db().selectFrom("codes").select("id").where("outbox_id", "=", claim.id).executeTakeFirstOrThrow();
    return { claim, codeId: code.id, userId: user.id };
  }

  async function claimedNotice(): Promise<{ claim: OutboxMessage; userId: string }> {
    const user = await addUser(unit.deps);
    await enqueueMail(db(), now(), unit.deps.random, unit.deps.mailDomain, { userId: user.id, kind: "lock", recipient: user.otp_email!, subject: "s", text: "text", html: "<p>html</p>" });
    const claim = (await claimDueMail(db(), "sqlite", now(), LEASE, 50)).find((m) => m.user_id === user.id)!;
    return { claim, userId: user.id };
  }

  const disable = (userId: string) => db().updateTable("users").set({ disabled_at: now() }).where("id", "=", userId).execute();

  it("a live code's mail of an active account goes, in one statement", async () => {
    const { claim } = await claimedCodeMail();
    const log = logStatements();
    try {
      const statements = await log.record(async () => expect(await withdrawWaitingMail(db(), claim, now(), { scrub: true })).toBeNull());
      expect(statements).toHaveLength(1);
    } finally {
      log.stop();
    }
    expect(await findMail(db(), claim.id)).toMatchObject({ state: "sending" });
  });

  it("a code replaced meanwhile: withdrawn as WITHDRAWN, bodies kept unless scrubbing", async () => {
    for (const scrub of [false, true]) {
      const { claim, codeId } = await claimedCodeMail();
      await db().updateTable("codes").set({ voided_at: now(), void_reason: "replaced" }).where("id", "=", codeId).execute();
      expect(await withdrawWaitingMail(db(), claim, now(), { scrub })).toBe("withdrawn");
      const row = (await findMail(db(), claim.id))!;
      expect(row).toMatchObject({ state: "failed", lease_until: null, last_error: WITHDRAWN, sent_at: null });
      expect(row.text_body === "").toBe(scrub);
    }
  });

  it("a code expired meanwhile, in one statement", async () => {
    const { claim } = await claimedCodeMail();
    const log = logStatements();
    try {
      const statements = await log.record(async () => expect(await withdrawWaitingMail(db(), claim, now() + 24 * 3600_000)).toBe("withdrawn"));
      expect(statements).toHaveLength(1);
    } finally {
      log.stop();
    }
  });

  it("a notice whose account was disabled meanwhile: withdrawn as WITHDRAWN_LEAVER, bodies emptied even unscrubbed, in one statement", async () => {
    const { claim, userId } = await claimedNotice();
    await disable(userId);
    const log = logStatements();
    try {
      const statements = await log.record(async () => expect(await withdrawWaitingMail(db(), claim, now(), { scrub: false })).toBe("leaver"));
      expect(statements).toHaveLength(1);
    } finally {
      log.stop();
    }
    expect(await findMail(db(), claim.id)).toMatchObject({ state: "failed", lease_until: null, last_error: WITHDRAWN_LEAVER, text_body: "", html_body: "" });
  });

  it("a disabled account's live code mail is left to the code rule (the disable voids codes); an active account's notice goes", async () => {
    const code = await claimedCodeMail();
    await disable(code.userId);
    expect(await withdrawWaitingMail(db(), code.claim, now())).toBeNull();
    const notice = await claimedNotice();
    expect(await withdrawWaitingMail(db(), notice.claim, now())).toBeNull();
    for (const id of [code.claim.id, notice.claim.id]) expect(await findMail(db(), id)).toMatchObject({ state: "sending" });
  });

  it("a claim lost meanwhile (another sender took it again) changes nothing", async () => {
    const { claim, userId } = await claimedNotice();
    await disable(userId);
    expect(await withdrawWaitingMail(db(), { ...claim, attempts: claim.attempts - 1 }, now())).toBeNull();
    expect(await findMail(db(), claim.id)).toMatchObject({ state: "sending" });
  });
});
