import { describe, expect, it } from "vitest";
import { addressKey, addressProblems } from "../../src/bounce/addresses.ts";
import { FORWARD_BOUNCES } from "../../src/bounce/forward-reports.ts";
import { announceRollout } from "../../src/rollout/announce.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { addUser } from "../support/app.ts";
import { bounceListenerApp } from "../support/bounce-app.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import type { ReceivedMail } from "../support/smtp.ts";
import { DIALECTS } from "../store/dialects.ts";

const SECRET = "h".repeat(20) + "0123456789abcdefghij";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * A dealership's desk address shared by twelve staff, expanded by its own server to a group with one member who
 * has left. `famos rollout announce` mails each of the twelve, at once and before anyone has confirmed a code
 * there: the dead member's server returns a forward report of each of the twelve messages. The operator's own
 * mailing must not mark the desk's address (the shared-address rule): a forward report counts only of a code mail
 * (forward-reports.ts forwardCounts), and several code mails to the address while one's code was still valid (colleagues
 * signing in together before the first confirms) are one occasion. A one-person alias to a dead mailbox is still
 * marked after FORWARD_BOUNCES code mails on separate occasions with no code confirmed. Real DSNs over SMTP to the
 * listener and the webhook; SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("a desk address's announcements and bursts (%s)", (database) => {
  const app = bounceListenerApp(database, { FAMOS_BOUNCE_WEBHOOK_SECRET: SECRET });
  let ip = 0;
  const codeMailFor = (email: string, after = HOUR) => {
    app.t.clock.advance(after);
    return codeMail(app.t, email, `10.32.${database === "sqlite" ? 1 : 2}.${(ip += 1)}`);
  };
  /** The dead member's forward report of `mail`: by the listener (a DSN) for even `i`, by the webhook for odd. */
  const reportDead = async (mail: ReceivedMail, dead: string, i: number) => {
    if (i % 2 === 0) {
      await sendFromNullSender(app.listener.port, mail.envelopeFrom, dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: `550 5.1.1 <${dead}>: User unknown`, finalRecipient: dead }));
      return;
    }
    const answer = await app.t.app.inject({
      method: "POST",
      url: "/hooks/bounce",
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
      payload: JSON.stringify({ messageId: mail.messageId, type: "hard", status: "5.1.1", reason: "550 5.1.1 user unknown", recipient: dead }),
    });
    expect(answer.json()).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
  };
  const forwardReports = async (email: string) =>
    (await app.t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.forward-bounced").execute()).filter((a) => (JSON.parse(a.detail ?? "{}") as { to: string }).to === email).length;
  const counted = async (email: string) =>
    (await app.t.deps.db.selectFrom("mail_addresses").select("forward_bounces").where("address_key", "=", addressKey(email)).executeTakeFirst())?.forward_bounces ?? 0;

  it("the rollout announcement to twelve staff sharing the desk, each of the twelve forward-reported: the desk not marked", async () => {
    const desk = `desk.${database}@dealer.example`;
    const dead = `leaver.${database}@staff.dealer.example`;
    const partner = `3${database === "sqlite" ? 1 : 2}01`;
    for (let i = 0; i < 12; i += 1) {
      const user = await addUser(app.t.deps, { email: null, loginId: `desk${i}.${database}`, partnerNumber: partner });
      await app.t.deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: desk, grace_used: 0, announced_at: null }).execute();
    }
    await setWaveStart(app.t.deps.db, partner, app.t.clock.now() + 30 * 24 * HOUR, app.t.clock.now(), "test");
    const report = await announceRollout(app.t.deps, { partner, dryRun: true, actor: { actor: "operator:test", ip: "cli", userAgent: "test" } });
    expect(report.wouldMail).toHaveLength(12);
    expect((await announceRollout(app.t.deps, { partner, dryRun: false, actor: { actor: "operator:test", ip: "cli", userAgent: "test" } })).mailed).toBe(12);
    await app.t.smtp.waitForMessage(() => app.t.smtp.messages.filter((m) => m.envelopeTo.includes(desk)).length === 12);
    const mails = app.t.smtp.messages.filter((m) => m.envelopeTo.includes(desk));
    for (const [i, mail] of mails.entries()) await reportDead(mail, dead, i);
    expect(await forwardReports(desk)).toBe(12);
    expect(await counted(desk)).toBe(0);
    expect(await addressProblems(app.t.deps.db, desk)).toBeNull();
  });

  it("three colleagues' code mails to the desk minutes apart, before the first confirms, each forward-reported: one occasion, not marked", async () => {
    const desk = `counter.${database}@dealer.example`;
    const dead = `gone.${database}@staff.dealer.example`;
    for (let i = 0; i < FORWARD_BOUNCES; i += 1) {
      const { mail } = await codeMailFor(desk, i === 0 ? HOUR : MINUTE);
      await reportDead(mail, dead, i);
    }
    expect(await forwardReports(desk)).toBe(FORWARD_BOUNCES);
    expect(await counted(desk)).toBe(1);
    expect(await addressProblems(app.t.deps.db, desk)).toBeNull();
  });

  it(`a one-person alias to a dead mailbox: ${FORWARD_BOUNCES} code mails on separate occasions, none confirmed, mark it`, async () => {
    const alias = `p.roe.${database}@dealer.example`;
    const dead = `paula.roe.${database}@dealer.example`;
    for (let i = 0; i < FORWARD_BOUNCES; i += 1) {
      expect(await addressProblems(app.t.deps.db, alias)).toBeNull();
      const { mail } = await codeMailFor(alias);
      await reportDead(mail, dead, i);
    }
    expect(await counted(alias)).toBe(FORWARD_BOUNCES);
    expect(await addressProblems(app.t.deps.db, alias)).toMatchObject({ undeliverableAt: expect.any(Number), undeliverableReason: expect.stringContaining("→ p•••@dealer.example") });
  });
});
