import { describe, expect, it } from "vitest";
import { addressKey, addressProblems } from "../../src/bounce/addresses.ts";
import { FORWARD_BOUNCES } from "../../src/bounce/forward-reports.ts";
import { bounceListenerApp } from "../support/bounce-app.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import type { ReceivedMail } from "../support/smtp.ts";
import { DIALECTS } from "../store/dialects.ts";

const SECRET = "g".repeat(20) + "0123456789abcdefghij";
/** Each code mail another occasion: more than the code validity (FAMOS_OTP_TTL) after the one before (forward-reports.ts forwardCounts). */
const HOUR = 3_600_000;

/**
 * A dealership's shared address that its server expands to a group (sales@ → 12 staff) with three dead members
 * sends three forward reports for the same message, one per dead mailbox: one event, counted once on the address
 * (forward-reports.ts forwardBounceSet counts messages, not reports), each report audited (mail.forward-bounced,
 * with its mailbox) and in the metric. Else one code mail marks the whole desk's address undeliverable, which the
 * shared-address rule forbids. FORWARD_BOUNCES code mails an hour apart, each with a forward report and no code confirmed, still
 * mark it (a one-person alias to a dead mailbox); a report delivered twice (a relay's retry) counts once; a
 * forward's delay report does not hide its later failure. Real DSNs over SMTP to the listener, and the webhook;
 * SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("a group address's dead members (%s)", (database) => {
  const app = bounceListenerApp(database, { FAMOS_BOUNCE_WEBHOOK_SECRET: SECRET });
  let ip = 0;
  const codeMailFor = (email: string) => {
    app.t.clock.advance(HOUR);
    return codeMail(app.t, email, `10.31.${database === "sqlite" ? 1 : 2}.${(ip += 1)}`);
  };
  const byListener = (mail: ReceivedMail, finalRecipient: string, action: "failed" | "delayed" = "failed") =>
    sendFromNullSender(
      app.listener.port,
      mail.envelopeFrom,
      action === "failed"
        ? dsnFor(mail, { action, status: "5.1.1", diagnostic: `550 5.1.1 <${finalRecipient}>: User unknown`, finalRecipient })
        : dsnFor(mail, { action, status: "4.4.1", diagnostic: `451 4.4.1 <${finalRecipient}>: connection timed out`, finalRecipient }),
    );
  const byWebhook = async (body: unknown) =>
    (
      await app.t.app.inject({ method: "POST", url: "/hooks/bounce", headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` }, payload: JSON.stringify(body) })
    ).json() as unknown;
  /** A code mail to the group address `group`, whose members `names` have left (their mailboxes dead). */
  const groupMail = async (group: string, names: string[]) => ({ dead: names.map((name) => `${name}.${database}@staff.dealer.example`), ...(await codeMailFor(`${group}.${database}@dealer.example`)) });
  const hardReport = (mail: ReceivedMail, recipient: string) => ({ messageId: mail.messageId, type: "hard", status: "5.1.1", reason: "550 5.1.1 user unknown", recipient });
  const forwardedTo = async (loginId: string) =>
    (await app.t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.forward-bounced").where("subject", "=", loginId).orderBy("id").execute()).map(
      (a) => (JSON.parse(a.detail ?? "{}") as { forwardedTo: string }).forwardedTo,
    );
  const counted = async (email: string) =>
    (await app.t.deps.db.selectFrom("mail_addresses").select("forward_bounces").where("address_key", "=", addressKey(email)).executeTakeFirst())?.forward_bounces ?? 0;
  const forwardMetric = async () => (await app.t.deps.metrics.mailBounced.get()).values.find((v) => v.labels.kind === "forward")?.value ?? 0;

  it("three dead members' reports of one code mail, by the listener: one event, each report audited, the address not marked", async () => {
    const { dead, user, mail } = await groupMail("sales", ["anna", "ben", "carl"]);
    const sales = user.otp_email!;
    const before = await forwardMetric();
    for (const member of dead) await byListener(mail, member);
    await byListener(mail, dead[0]!); // a relay's retry of the first report
    expect(await forwardedTo(user.login_id)).toEqual(dead);
    expect(await forwardMetric()).toBe(before + 3);
    expect(await counted(sales)).toBe(1);
    expect(await addressProblems(app.t.deps.db, sales)).toBeNull();
    // Another code mail with the same three dead members: two events, still below FORWARD_BOUNCES.
    const { mail: next } = await codeMailFor(sales);
    for (const member of dead) await byListener(next, member);
    expect(await counted(sales)).toBe(2);
    expect(await addressProblems(app.t.deps.db, sales)).toBeNull();
  });

  it("three dead members' reports of one code mail, by the webhook: recorded, one event, a retried report a duplicate", async () => {
    const { dead, user, mail } = await groupMail("parts", ["dora", "emil", "fritz"]);
    expect(await byWebhook(dead.map((member) => hardReport(mail, member)))).toEqual({ recorded: 3, duplicates: 0, unknown: 0 });
    expect(await byWebhook(hardReport(mail, dead[1]!.toUpperCase()))).toEqual({ recorded: 0, duplicates: 1, unknown: 0 });
    expect(await forwardedTo(user.login_id)).toEqual(dead);
    expect(await counted(user.otp_email!)).toBe(1);
    expect(await addressProblems(app.t.deps.db, user.otp_email!)).toBeNull();
  });

  it("three members' reports of one code mail arriving at once (three webhook calls racing): one event", async () => {
    const { dead, user, mail } = await groupMail("service", ["gina", "hans", "ida"]);
    const answers = await Promise.all(dead.map((member) => byWebhook(hardReport(mail, member))));
    expect(answers).toEqual(dead.map(() => ({ recorded: 1, duplicates: 0, unknown: 0 })));
    expect((await forwardedTo(user.login_id)).sort()).toEqual(dead);
    expect(await counted(user.otp_email!)).toBe(1);
  });

  it("a message's forward reports go with it (the outbox's retention and erasure delete messages)", async () => {
    const { dead, mail } = await groupMail("stock", ["jana", "kai"]);
    expect(await byWebhook(dead.map((member) => hardReport(mail, member)))).toEqual({ recorded: 2, duplicates: 0, unknown: 0 });
    const { id } = await app.t.deps.db.selectFrom("outbox").select("id").where("message_id", "=", mail.messageId).executeTakeFirstOrThrow();
    const reports = () => app.t.deps.db.selectFrom("forward_reports").select("report").where("outbox_id", "=", id).execute();
    expect(await reports()).toHaveLength(2);
    await app.t.deps.db.deleteFrom("outbox").where("id", "=", id).execute();
    expect(await reports()).toEqual([]);
  });

  it(`${FORWARD_BOUNCES} code mails, each with one forward report and no code confirmed: marked, by the listener and the webhook alike`, async () => {
    const alias = `j.doe.${database}@dealer.example`;
    const dead = `jane.doe.${database}@dealer.example`;
    for (let i = 0; i < FORWARD_BOUNCES; i += 1) {
      expect(await addressProblems(app.t.deps.db, alias)).toBeNull();
      const { mail } = await codeMailFor(alias);
      if (i % 2 === 0) await byListener(mail, dead);
      else expect(await byWebhook(hardReport(mail, dead))).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
    }
    expect(await addressProblems(app.t.deps.db, alias)).toMatchObject({ undeliverableAt: expect.any(Number), undeliverableReason: expect.stringContaining("→ j•••@dealer.example") });
  });

  it("a forward's delay report, then its failure: the failure counts", async () => {
    const alias = `m.roe.${database}@dealer.example`;
    const dead = `max.roe.${database}@dealer.example`;
    for (let i = 0; i < FORWARD_BOUNCES; i += 1) {
      const { mail } = await codeMailFor(alias);
      await byListener(mail, dead, "delayed");
      await byListener(mail, dead);
    }
    expect(await counted(alias)).toBe(FORWARD_BOUNCES);
    expect(await addressProblems(app.t.deps.db, alias)).toMatchObject({ undeliverableAt: expect.any(Number) });
  });
});
