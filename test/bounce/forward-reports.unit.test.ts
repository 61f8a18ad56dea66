import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { addressKey } from "../../src/bounce/addresses.ts";
import { FORWARD_BOUNCES, FORWARD_REPORTS_PER_MESSAGE, reportsTaken, serializeAddress } from "../../src/bounce/forward-reports.ts";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow, type Flow } from "../../src/otp/flows.ts";
import { addUser } from "../support/app.ts";
import { recordedPostgres } from "../support/recorded-postgres.ts";
import { scriptedCodes } from "../support/scripted-codes.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;


/**
 * The forward half of recordBounce (src/bounce/forward-reports.ts), unit tier: which of a DSN's reports a message
 * takes (reportsTaken), each forward report taken once and at most FORWARD_REPORTS_PER_MESSAGE a message
 * (takeForwardReport, reportsFull), counted on the address only for a password-proven code mail, once per
 * message and per occasion (forwardCounts), and FORWARD_BOUNCES such occasions making the address undeliverable
 * with the forward's words masked (forwardBounceSet). Before, only the integration tier asked these.
 */
describe("forward reports (unit tier)", () => {
  const unit = useUnitDeps();
  const db = () => unit.db;
  let n = 0;

  describe("reportsTaken", () => {
    const MAILED = "desk@dealer.example";
    const r = (recipient: string | null, tag: string) => ({ recipient, tag });
    const forwards = (count: number, from = 0) => Array.from({ length: count }, (_, i) => r(`staff${from + i}@dealer.example`, `f${from + i}`));
    const tags = (reports: Array<{ tag: string }>) => reports.map((x) => x.tag);

    it("takes every report of a short DSN, in its order", () => {
      const reports = [r("anna@dealer.example", "a"), r(null, "own"), r("ben@dealer.example", "b")];
      expect(tags(reportsTaken(reports, MAILED))).toEqual(["a", "own", "b"]);
      expect(reportsTaken([], MAILED)).toEqual([]);
    });

    it("takes the address mailed's own report listed after more forwards than a message takes, and the first forwards up to the cap", () => {
      const reports = [...forwards(FORWARD_REPORTS_PER_MESSAGE + 5), r("<Desk@Dealer.example>", "own")];
      const taken = tags(reportsTaken(reports, MAILED));
      expect(taken).toEqual([...tags(forwards(FORWARD_REPORTS_PER_MESSAGE)), "own"]);
    });

    it("takes exactly FORWARD_REPORTS_PER_MESSAGE forwards, the first ones, with no own report", () => {
      const taken = tags(reportsTaken(forwards(FORWARD_REPORTS_PER_MESSAGE + 1), MAILED));
      expect(taken).toEqual(tags(forwards(FORWARD_REPORTS_PER_MESSAGE)));
    });

    it("takes the reports naming no address or the one mailed as its own, and at most FORWARD_REPORTS_PER_MESSAGE + 1 in all", () => {
      const reports = [r(null, "own1"), ...forwards(FORWARD_REPORTS_PER_MESSAGE), r(MAILED, "own2"), r("", "own3")];
      const taken = tags(reportsTaken(reports, MAILED));
      expect(taken).toHaveLength(FORWARD_REPORTS_PER_MESSAGE + 1);
      expect(taken).toEqual(["own1", ...tags(forwards(FORWARD_REPORTS_PER_MESSAGE - 2)), "own2", "own3"]);
    });
  });

  it("on PostgreSQL, waits for the address's other forward reports (a transaction's advisory lock on its key); SQLite's transactions are serial already", async () => {
    // Statements compiled for PostgreSQL and recorded, no server: which lock, on which key.
    const { db: recorded, statements } = recordedPostgres();
    await recorded.transaction().execute((tx) => serializeAddress({ ...unit.deps, dialect: "postgres" }, tx, " Desk@Dealer.EXAMPLE "));
    expect(statements.map((q) => [q.sql, q.parameters])).toEqual([["select pg_advisory_xact_lock(hashtext($1))", [`forward:${addressKey("desk@dealer.example")}`]]]);
    statements.length = 0;
    await recorded.transaction().execute((tx) => serializeAddress({ ...unit.deps, dialect: "sqlite" }, tx, "desk@dealer.example"));
    expect(statements).toEqual([]);
    await recorded.destroy();
  });

  async function codeMail(recipient: string, code = 100_000 + (++n % 800_000), kind: Flow["kind"] = "signin"): Promise<string> {
    const user = (await db().selectFrom("users").select(["id", "otp_email"]).where("otp_email", "=", recipient).executeTakeFirst()) ?? (await addUser(unit.deps, { email: recipient }));
    const deps: Deps = { ...unit.deps, random: scriptedCodes(code) };
    const flow = await createFlow(db(), deps.random, { userId: user.id, kind, email: recipient, now: unit.now() });
    const sent = await db().transaction().execute((tx) => issueCode(deps, tx, flow, "someone", unit.now()));
    if (sent.kind !== "sent") throw new Error(`not sent: ${sent.kind}`);
    return sent.outboxId;
  }
  const forwardReport = (outboxId: string, finalRecipient: string, kind: "hard" | "soft" = "hard", reason = "550 5.1.1 <x@dealer.example>: mailbox unavailable") =>
    recordBounce(unit.deps, { outboxId, kind, status: kind === "hard" ? "5.1.1" : "4.2.2", reason, finalRecipient }, "webhook");
  const address = (email: string) =>
    db().selectFrom("mail_addresses").select(["forward_bounces", "undeliverable_at", "undeliverable_reason"]).where("address_key", "=", addressKey(email)).executeTakeFirst();
  const counted = async (email: string) => (await address(email))?.forward_bounces ?? 0;
  const stored = (outboxId: string) => db().selectFrom("forward_reports").select("report").where("outbox_id", "=", outboxId).execute();

  it("takes a forward report once per kind and mailbox: a relay's retry is a duplicate, the same mailbox's other kind is taken", async () => {
    const desk = `desk${++n}@dealer.example`;
    const mail = await codeMail(desk);
    expect(await forwardReport(mail, "anna@dealer.example")).toMatchObject({ kind: "recorded", forwardedTo: "anna@dealer.example" });
    expect(await forwardReport(mail, "<ANNA@dealer.example>")).toEqual({ kind: "duplicate" });
    expect(await forwardReport(mail, "anna@dealer.example", "soft")).toMatchObject({ kind: "recorded" });
    expect(await forwardReport(mail, "ben@dealer.example")).toMatchObject({ kind: "recorded" });
    expect(await stored(mail)).toHaveLength(3);
    // Another message takes the same report again.
    const other = await codeMail(desk);
    expect(await forwardReport(other, "anna@dealer.example")).toMatchObject({ kind: "recorded" });
  });

  it(`takes at most ${FORWARD_REPORTS_PER_MESSAGE} forward reports a message: any more are duplicates, not kept`, async () => {
    const mail = await codeMail(`desk${++n}@dealer.example`);
    for (let i = 0; i < FORWARD_REPORTS_PER_MESSAGE; i++) expect(await forwardReport(mail, `m${i}@dealer.example`)).toMatchObject({ kind: "recorded" });
    expect(await forwardReport(mail, "one-more@dealer.example")).toEqual({ kind: "duplicate" });
    expect(await stored(mail)).toHaveLength(FORWARD_REPORTS_PER_MESSAGE);
  });

  it("counts a code mail's hard forward report on the address once per message; a soft one, an announcement's or a reset's never", async () => {
    const desk = `desk${++n}@dealer.example`;
    const mail = await codeMail(desk);
    expect(await forwardReport(mail, "anna@dealer.example", "soft")).toMatchObject({ kind: "recorded" });
    expect(await counted(desk)).toBe(0);
    await forwardReport(mail, "anna@dealer.example");
    await forwardReport(mail, "ben@dealer.example");
    expect(await counted(desk)).toBe(1);

    const other = `desk${++n}@dealer.example`;
    const user = await addUser(unit.deps, { email: other });
    const announcement = await enqueueMail(db(), unit.now(), unit.deps.random, unit.deps.mailDomain, { userId: user.id, kind: "announcement", recipient: other, subject: "s", text: "t", html: "<p>t</p>" });
    expect(await forwardReport(announcement, "anna@dealer.example")).toMatchObject({ kind: "recorded" });
    const reset = await codeMail(other, undefined, "password-reset");
    expect(await forwardReport(reset, "anna@dealer.example")).toMatchObject({ kind: "recorded" });
    expect(await counted(other)).toBe(0);
  });

  it("counts one occasion once: code mails valid at the same time are one, one sent when the first's validity ended another", async () => {
    const desk = `desk${++n}@dealer.example`;
    const first = await codeMail(desk);
    unit.clock.advance(5 * MINUTE);
    const second = await codeMail(desk);
    await forwardReport(first, "anna@dealer.example");
    await forwardReport(second, "anna@dealer.example");
    expect(await counted(desk)).toBe(1);
    unit.clock.advance(10 * MINUTE);
    // 15 minutes after the first (FAMOS_OTP_TTL): its code no longer valid when this one was sent.
    const third = await codeMail(desk);
    await forwardReport(third, "anna@dealer.example");
    expect(await counted(desk)).toBe(2);
    // A code mail sent 14 minutes after the third: the same occasion as the third.
    unit.clock.advance(14 * MINUTE);
    const fourth = await codeMail(desk);
    await forwardReport(fourth, "anna@dealer.example");
    expect(await counted(desk)).toBe(2);
  });

  it(`makes the address undeliverable at ${FORWARD_BOUNCES} occasions, with the forward's mailbox and words masked`, async () => {
    const alias = `j.doe${++n}@dealer.example`;
    for (let i = 0; i < FORWARD_BOUNCES; i++) {
      expect(await address(alias)).toMatchObject(i === 0 ? {} : { undeliverable_at: null, undeliverable_reason: null });
      const mail = await codeMail(alias);
      await forwardReport(mail, "jane.doe@dealer.example", "hard", "550 5.1.1 <jane.doe@dealer.example>: Recipient address rejected");
      unit.clock.advance(20 * MINUTE);
    }
    const marked = await address(alias);
    expect(marked).toMatchObject({ forward_bounces: FORWARD_BOUNCES, undeliverable_at: unit.now() - 20 * MINUTE });
    expect(marked?.undeliverable_reason).toMatch(/^→ j•••@dealer\.example: 550 5\.1\.1 <j•••@dealer\.example>: Recipient address rejected$/);
    // Once marked, a further occasion keeps when and why.
    const mail = await codeMail(alias);
    await forwardReport(mail, "other@dealer.example", "hard", "550 gone");
    expect(await address(alias)).toMatchObject({ forward_bounces: FORWARD_BOUNCES + 1, undeliverable_at: marked!.undeliverable_at, undeliverable_reason: marked!.undeliverable_reason });
  });
});
