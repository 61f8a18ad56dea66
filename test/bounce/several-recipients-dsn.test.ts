import { describe, expect, it } from "vitest";
import { addressKey, addressProblems } from "../../src/bounce/addresses.ts";
import { FORWARD_REPORTS_PER_MESSAGE } from "../../src/bounce/forward-reports.ts";
import { bounceListenerApp } from "../support/bounce-app.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender, type DsnOptions } from "../support/dsn.ts";
import type { ReceivedMail } from "../support/smtp.ts";
import { DIALECTS } from "../store/dialects.ts";

/** Each code mail another occasion: more than the code validity (FAMOS_OTP_TTL) after the one before. */
const HOUR = 3_600_000;

const dead = (member: string): DsnOptions => ({
  action: "failed",
  status: "5.1.1",
  diagnostic: `550 5.1.1 <${member}>: Recipient address rejected: User unknown in virtual mailbox table`,
  finalRecipient: member,
});
const late = (member: string): DsnOptions => ({ action: "delayed", status: "4.4.1", diagnostic: `connect to mailstore.dealer.example[192.0.2.25]:25: Connection timed out`, finalRecipient: member });

/**
 * A dealership's shared staff address its server expands to several forwards: Postfix then writes ONE report
 * of the message listing each mailbox it could not reach, some dead, some delayed, each its own Final-Recipient
 * (the address mailed as Original-Recipient). The listener records each recipient's report (recordBounce), so
 * every forward is audited and in the metric, the message is counted once on the address (forwardCounts), and
 * the address mailed is marked only by a report naming it. Real DSNs over SMTP to the listener; SQLite and
 * PostgreSQL.
 */
describe.each(DIALECTS)("one DSN reporting on several recipients (%s)", (database) => {
  const app = bounceListenerApp(database);
  let ip = 0;
  const codeMailFor = (email: string) => {
    app.t.clock.advance(HOUR);
    return codeMail(app.t, email, `10.32.${database === "sqlite" ? 1 : 2}.${(ip += 1)}`);
  };
  const byListener = (mail: ReceivedMail, ...reports: [DsnOptions, ...DsnOptions[]]) => sendFromNullSender(app.listener.port, mail.envelopeFrom, dsnFor(mail, ...reports));
  const staff = (name: string) => `${name}.${database}@staff.dealer.example`;
  const audited = async (loginId: string) =>
    (await app.t.deps.db.selectFrom("audit").select(["event", "detail"]).where("event", "in", ["mail.bounced", "mail.forward-bounced"]).where("subject", "=", loginId).orderBy("id").execute()).map((a) => {
      const detail = JSON.parse(a.detail) as { bounce: string; forwardedTo?: string };
      return `${a.event} ${detail.bounce}${detail.forwardedTo === undefined ? "" : ` ${detail.forwardedTo}`}`;
    });
  const addressRow = (email: string) => app.t.deps.db.selectFrom("mail_addresses").selectAll().where("address_key", "=", addressKey(email)).executeTakeFirst();
  const forwardMetric = async () => (await app.t.deps.metrics.mailBounced.get()).values.find((v) => v.labels.kind === "forward")?.value ?? 0;

  it("two dead forwards and a delayed one in one report: each recorded, the message counted once, the address not marked", async () => {
    const { user, mail } = await codeMailFor(`sales.${database}@dealer.example`);
    const before = await forwardMetric();
    await byListener(mail, dead(staff("anna")), late(staff("ben")), dead(staff("carl")));
    expect(await audited(user.login_id)).toEqual([`mail.forward-bounced hard ${staff("anna")}`, `mail.forward-bounced soft ${staff("ben")}`, `mail.forward-bounced hard ${staff("carl")}`]);
    expect(await forwardMetric()).toBe(before + 3);
    expect(await addressRow(user.otp_email!)).toMatchObject({ forward_bounces: 1, soft_bounces: 0, undeliverable_at: null });
    // The same report again (a relay's retry): each recipient's a duplicate.
    await byListener(mail, dead(staff("anna")), late(staff("ben")), dead(staff("carl")));
    expect(await audited(user.login_id)).toHaveLength(3);
    expect(await forwardMetric()).toBe(before + 3);
  });

  it("the address mailed delayed and a forward dead: the address gets its own delay, not the forward's failure", async () => {
    const { user, mail } = await codeMailFor(`desk.${database}@dealer.example`);
    await byListener(mail, dead(staff("dora")), late(user.otp_email!));
    expect(await audited(user.login_id)).toEqual([`mail.forward-bounced hard ${staff("dora")}`, "mail.bounced soft"]);
    expect(await addressRow(user.otp_email!)).toMatchObject({ forward_bounces: 1, soft_bounces: 1, undeliverable_at: null });
    expect(await addressProblems(app.t.deps.db, user.otp_email!)).toMatchObject({ undeliverableAt: null, softBounces: 1 });
  });

  it("the address mailed dead, listed after a forward's delay: marked undeliverable by its own report, the delay recorded too", async () => {
    const { user, mail } = await codeMailFor(`parts.${database}@dealer.example`);
    await byListener(mail, late(staff("emil")), dead(user.otp_email!));
    expect(await audited(user.login_id)).toEqual([`mail.forward-bounced soft ${staff("emil")}`, "mail.bounced hard"]);
    expect(await addressProblems(app.t.deps.db, user.otp_email!)).toMatchObject({ undeliverableAt: expect.any(Number) });
  });

  it(`a report listing more mailboxes than a message takes: ${FORWARD_REPORTS_PER_MESSAGE} audited, the rest not read`, async () => {
    const { user, mail } = await codeMailFor(`stock.${database}@dealer.example`);
    const members = Array.from({ length: FORWARD_REPORTS_PER_MESSAGE + 5 }, (_, i) => dead(staff(`m${i}`)));
    await byListener(mail, members[0]!, ...members.slice(1));
    expect(await audited(user.login_id)).toHaveLength(FORWARD_REPORTS_PER_MESSAGE);
    expect(await addressRow(user.otp_email!)).toMatchObject({ forward_bounces: 1, undeliverable_at: null });
  });

  it(`the address mailed dead, listed after more than ${FORWARD_REPORTS_PER_MESSAGE} forwards: its own report is taken, and the cap of forwards`, async () => {
    const { user, mail } = await codeMailFor(`fleet.${database}@dealer.example`);
    const members = Array.from({ length: FORWARD_REPORTS_PER_MESSAGE + 1 }, (_, i) => dead(staff(`f${i}`)));
    await byListener(mail, members[0]!, ...members.slice(1), dead(user.otp_email!));
    expect(await audited(user.login_id)).toEqual([...members.slice(0, FORWARD_REPORTS_PER_MESSAGE).map((m) => `mail.forward-bounced hard ${m.finalRecipient}`), "mail.bounced hard"]);
    expect(await addressProblems(app.t.deps.db, user.otp_email!)).toMatchObject({ undeliverableAt: expect.any(Number) });
  });
});
