import { describe, expect, it } from "vitest";
import { addressKey, addressProblems } from "../../src/bounce/addresses.ts";
import { FORWARD_BOUNCES, FORWARD_REPORTS_PER_MESSAGE } from "../../src/bounce/forward-reports.ts";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { addUser } from "../support/app.ts";
import { bounceListenerApp } from "../support/bounce-app.ts";
import { FormClient } from "../support/client.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import type { ReceivedMail } from "../support/smtp.ts";
import { DIALECTS } from "../store/dialects.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Forward reports that an outsider, or two reports at once, could make count (forward-reports.ts forwardCounts):
 * "Forgot password?" asks only for a login ID (FAMOS_PASSWORD_RESET=self), so its code mails never count — a
 * stranger who knows one desk user's login ID asks for a reset each night and the desk's one dead member bounces
 * each forward; two reports of different messages of one occasion recorded at once count once (PostgreSQL's
 * parallel transactions); one message takes at most FORWARD_REPORTS_PER_MESSAGE forward reports in the trail.
 * Real reset requests over HTTP, real DSNs to the listener; SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("forward reports an outsider makes (%s)", (database) => {
  const app = bounceListenerApp(database, { FAMOS_PASSWORD_RESET: "self" });
  const net = database === "sqlite" ? 1 : 2;
  let ip = 0;
  const reportDead = (mail: ReceivedMail, dead: string) =>
    sendFromNullSender(app.listener.port, mail.envelopeFrom, dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: `550 5.1.1 <${dead}>: User unknown`, finalRecipient: dead }));
  const counted = async (email: string) =>
    (await app.t.deps.db.selectFrom("mail_addresses").select("forward_bounces").where("address_key", "=", addressKey(email)).executeTakeFirst())?.forward_bounces ?? 0;
  const forwardAudits = async (email: string) =>
    (await app.t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.forward-bounced").execute()).filter((a) => (JSON.parse(a.detail ?? "{}") as { to: string }).to === email).length;

  it(`a stranger's ${FORWARD_BOUNCES} reset requests for a desk user's login ID, nights apart, each forward-reported: the desk not marked`, async () => {
    const desk = `night.${database}@dealer.example`;
    const dead = `left.${database}@staff.dealer.example`;
    await addUser(app.t.deps, { loginId: `nightdesk.${database}`, email: desk });
    for (let i = 0; i < FORWARD_BOUNCES; i += 1) {
      app.t.clock.advance(10 * HOUR);
      const stranger = new FormClient(app.t.app, `10.33.${net}.${(ip += 1)}`);
      const before = app.t.smtp.messages.length;
      await stranger.get("/forgot-password");
      expect((await stranger.post("/forgot-password", { loginId: `nightdesk.${database}` })).statusCode).toBe(303);
      await app.t.app.afterReply.settled();
      const mail = await app.t.smtp.waitForMessage((m) => m.envelopeTo.includes(desk) && app.t.smtp.messages.indexOf(m) >= before);
      await reportDead(mail, dead);
    }
    expect(await forwardAudits(desk)).toBe(FORWARD_BOUNCES);
    expect(await counted(desk)).toBe(0);
    expect(await addressProblems(app.t.deps.db, desk)).toBeNull();
  });

  it(`one code mail's forward reports naming ${FORWARD_REPORTS_PER_MESSAGE + 5} mailboxes: ${FORWARD_REPORTS_PER_MESSAGE} audited, the rest duplicates`, async () => {
    const desk = `flood.${database}@dealer.example`;
    app.t.clock.advance(10 * HOUR);
    const { mail } = await codeMail(app.t, desk, `10.34.${net}.${(ip += 1)}`);
    const { id } = await app.t.deps.db.selectFrom("outbox").select("id").where("message_id", "=", mail.messageId).executeTakeFirstOrThrow();
    const outcomes: string[] = [];
    for (let i = 0; i < FORWARD_REPORTS_PER_MESSAGE + 5; i += 1) {
      const report = { outboxId: id, kind: "hard" as const, status: "5.1.1", reason: "550 user unknown", finalRecipient: `m${i}.${database}@staff.dealer.example` };
      outcomes.push((await recordBounce(app.t.deps, report, "smtp")).kind);
    }
    expect(outcomes.filter((k) => k === "recorded")).toHaveLength(FORWARD_REPORTS_PER_MESSAGE);
    expect(outcomes.slice(FORWARD_REPORTS_PER_MESSAGE)).toEqual(Array(5).fill("duplicate"));
    expect(await forwardAudits(desk)).toBe(FORWARD_REPORTS_PER_MESSAGE);
    expect(await app.t.deps.db.selectFrom("forward_reports").select("report").where("outbox_id", "=", id).execute()).toHaveLength(FORWARD_REPORTS_PER_MESSAGE);
    expect(await counted(desk)).toBe(1);
  });

  it("two reports of two code mails of one occasion, recorded at once, 10 rounds: each round counts 1", async () => {
    const rounds: number[] = [];
    for (let round = 0; round < 10; round += 1) {
      const desk = `race${round}.${database}@dealer.example`;
      app.t.clock.advance(10 * HOUR);
      const first = await codeMail(app.t, desk, `10.35.${net}.${(ip += 1)}`);
      app.t.clock.advance(MINUTE);
      const second = await codeMail(app.t, desk, `10.35.${net}.${(ip += 1)}`);
      const ids = await app.t.deps.db.selectFrom("outbox").select("id").where("message_id", "in", [first.mail.messageId, second.mail.messageId]).execute();
      expect(ids).toHaveLength(2);
      await Promise.all(
        ids.map(({ id }) => recordBounce(app.t.deps, { outboxId: id, kind: "hard", status: "5.1.1", reason: "550 user unknown", finalRecipient: `gone${round}.${database}@staff.dealer.example` }, "webhook")),
      );
      rounds.push(await counted(desk));
    }
    expect(rounds).toEqual(Array(10).fill(1));
  });
});
