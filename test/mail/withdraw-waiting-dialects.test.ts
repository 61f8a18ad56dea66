import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { WITHDRAWN_LEAVER } from "../../src/mail/leaver-mail.ts";
import { claimDueMail, enqueueMail, findMail, withdrawWaitingMail, WITHDRAWN, type OutboxMessage } from "../../src/mail/outbox.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";

const LEASE = 60_000;

/**
 * withdrawWaitingMail on both databases (the unit tier has SQLite alone): its one UPDATE chooses
 * last_error and the bodies by a CASE over carriesDeadCode, with bound strings on PostgreSQL. Each kind
 * of waiting message, scrubbing on and off: a dead code's mail (WITHDRAWN, bodies kept unless
 * scrubbing), a leaver's notice (WITHDRAWN_LEAVER, bodies emptied either way), and mail that is
 * neither (a live code's, an active account's notice: untouched, every column, so it goes).
 */
describe.each(DIALECTS)("withdrawWaitingMail (%s)", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let deps: Deps;
  beforeAll(async () => {
    t = await openInstances(dialect, 1, `withdraw_waiting_${dialect}`);
    deps = t.deps[0]!;
  });
  afterAll(async () => t?.close());
  const now = () => t.clock.now();
  const claimOf = async (userId: string): Promise<OutboxMessage> => (await claimDueMail(deps.db, dialect, now(), LEASE, 50)).find((m) => m.user_id === userId)!;

  async function codeMail(dead: boolean) {
    const user = await addUser(deps);
    const flow = await createFlow(deps.db, deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    await issueCode(deps, deps.db, flow, user.login_id, now());
    const claim = await claimOf(user.id);
    if (dead) await deps.db.updateTable("codes").set({ voided_at: now(), void_reason: "replaced" }).where("outbox_id", "=", claim.id).execute();
    return claim;
  }
  async function notice(leaver: boolean) {
    const user = await addUser(deps);
    await enqueueMail(deps.db, now(), deps.random, deps.mailDomain, { userId: user.id, kind: "lock", recipient: user.otp_email!, subject: "s", text: "text", html: "<p>html</p>" });
    const claim = await claimOf(user.id);
    if (leaver) await deps.db.updateTable("users").set({ disabled_at: now() }).where("id", "=", user.id).execute();
    return claim;
  }

  it.each([false, true])("scrub %s: each kind withdrawn by its own rule, the rest untouched", async (scrub) => {
    const dead = await codeMail(true);
    const leaver = await notice(true);
    const live = await codeMail(false);
    const active = await notice(false);
    const before = { live: await findMail(deps.db, live.id), active: await findMail(deps.db, active.id) };
    expect(before.live).toMatchObject({ state: "sending" });
    expect(await withdrawWaitingMail(deps.db, dead, now(), { scrub })).toBe("withdrawn");
    expect(await withdrawWaitingMail(deps.db, leaver, now(), { scrub })).toBe("leaver");
    expect(await withdrawWaitingMail(deps.db, live, now(), { scrub })).toBeNull();
    expect(await withdrawWaitingMail(deps.db, active, now(), { scrub })).toBeNull();
    const deadRow = (await findMail(deps.db, dead.id))!;
    expect(deadRow).toMatchObject({ state: "failed", lease_until: null, last_error: WITHDRAWN, last_fault: null, sent_at: null });
    expect([deadRow.text_body === "", deadRow.html_body === ""]).toEqual([scrub, scrub]);
    expect(await findMail(deps.db, leaver.id)).toMatchObject({ state: "failed", lease_until: null, last_error: WITHDRAWN_LEAVER, last_fault: null, text_body: "", html_body: "" });
    expect(await findMail(deps.db, live.id)).toEqual(before.live);
    expect(await findMail(deps.db, active.id)).toEqual(before.active);
    expect(before.active).toMatchObject({ text_body: "text", html_body: "<p>html</p>" });
  });
});
