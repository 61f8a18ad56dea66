import { describe, expect, it } from "vitest";
import { takeWebhookReports, WEBHOOK_BODY, webhookSecretMatches, type WebhookBody } from "../../src/bounce/webhook.ts";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const SECRET = "w".repeat(20) + "0123456789abcdefghij";

describe("the bounce webhook's secret and body (issue 15)", () => {
  it("matches the shared secret exactly: one character off, a prefix, a longer value or nothing do not", () => {
    expect(webhookSecretMatches(SECRET, SECRET)).toBe(true);
    for (const given of [`${SECRET.slice(0, -1)}x`, SECRET.slice(0, -1), `${SECRET}x`, "", SECRET.toUpperCase(), ` ${SECRET}`]) expect(webhookSecretMatches(given, SECRET), given).toBe(false);
    expect(webhookSecretMatches("", "")).toBe(true);
  });

  it("takes one report or a list of 1 to 100, each naming the message and giving the verdict, nothing else", () => {
    const ok = (body: unknown) => WEBHOOK_BODY.safeParse(body).success;
    const report = { messageId: "<abc@famos.test>", type: "hard" };
    expect(ok(report)).toBe(true);
    expect(ok({ returnPath: "bounce+x@b.test", type: "soft", status: "4.2.2", reason: "full" })).toBe(true);
    expect(ok([report])).toBe(true);
    expect(ok(Array.from({ length: 100 }, () => report))).toBe(true);
    expect(ok(Array.from({ length: 101 }, () => report))).toBe(false);
    expect(ok([])).toBe(false);
    expect(ok({ type: "hard" })).toBe(false);
    expect(ok({ ...report, type: "maybe" })).toBe(false);
    expect(ok({ ...report, extra: 1 })).toBe(false);
    for (const status of ["2.0.0", "5.1.1", "4.7.123", "5.123.1"]) expect(ok({ ...report, status }), status).toBe(true);
    for (const status of ["6.1.1", "5.1", "5.1.1x", "x5.1.1", "5.1234.1", "5.1.1234", "5..1", ""]) expect(ok({ ...report, status }), status).toBe(false);
    expect(ok({ ...report, messageId: "m".repeat(300) })).toBe(true);
    expect(ok({ ...report, messageId: "m".repeat(301) })).toBe(false);
    expect(ok({ returnPath: "r".repeat(300), type: "hard" })).toBe(true);
    expect(ok({ returnPath: "r".repeat(301), type: "hard" })).toBe(false);
    expect(ok({ ...report, reason: "r".repeat(1000) })).toBe(true);
    expect(ok({ ...report, reason: "r".repeat(1001) })).toBe(false);
    expect(WEBHOOK_BODY.safeParse({ type: "hard" }).error?.issues[0]?.message).toBe("give messageId or returnPath");
  });
});

describe("takeWebhookReports (unit tier)", () => {
  const unit = useUnitDeps({ env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test" } });
  const db = () => unit.deps.db;
  async function sent(email: string) {
    const user = await addUser(unit.deps, { email });
    const id = await enqueueMail(db(), unit.now(), unit.deps.random, unit.deps.mailDomain, { userId: user.id, kind: "code.signin", recipient: email, subject: "s", text: "t", html: "<p>t</p>" });
    const row = await db().selectFrom("outbox").select(["id", "message_id"]).where("id", "=", id).executeTakeFirstOrThrow();
    return { id, messageId: row.message_id };
  }
  const bounce = (id: string) => db().selectFrom("outbox").select(["bounced_at", "bounce_kind", "bounce_reason"]).where("id", "=", id).executeTakeFirstOrThrow();
  const take = (body: WebhookBody) => takeWebhookReports(unit.deps, body);

  it("finds the message by its Message-ID, with or without the angle brackets and spaces, and records each once", async () => {
    const a = await sent("hook.a@dealer.example");
    const b = await sent("hook.b@dealer.example");
    const c = await sent("hook.c@dealer.example");
    expect(await take({ messageId: a.messageId, type: "hard", status: "5.1.1", reason: "550 no such user" })).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
    expect(await bounce(a.id)).toEqual({ bounced_at: unit.now(), bounce_kind: "hard", bounce_reason: "550 no such user" });
    expect(await take({ messageId: ` ${a.messageId.slice(1, -1)} `, type: "hard" })).toEqual({ recorded: 0, duplicates: 1, unknown: 0 });
    expect(await take([{ messageId: b.messageId.slice(1, -1), type: "soft" }, { messageId: c.messageId, type: "hard" }, { messageId: c.messageId, type: "hard" }])).toEqual({ recorded: 2, duplicates: 1, unknown: 0 });
    // Without a reason, the verdict names it.
    expect(await bounce(b.id)).toEqual({ bounced_at: unit.now(), bounce_kind: "soft", bounce_reason: "soft bounce" });
    const [event] = await db().selectFrom("audit").select(["actor", "detail"]).where("event", "=", "mail.bounced").orderBy("id").execute();
    expect(event?.actor).toBe("bounce:webhook");
    expect(JSON.parse(event!.detail)).toMatchObject({ bounce: "hard", status: "5.1.1", to: "hook.a@dealer.example" });
    const soft = await db().selectFrom("audit").select("detail").where("event", "=", "mail.bounced").orderBy("id").offset(1).limit(1).executeTakeFirstOrThrow();
    expect(JSON.parse(soft.detail)).toMatchObject({ bounce: "soft", status: null });
  });

  it("counts as unknown a Message-ID FAMOS never gave: another domain, an id that is not one, nothing before the @", async () => {
    const m = await sent("hook.d@dealer.example");
    const bare = m.messageId.slice(1, -1);
    const id = bare.slice(0, bare.lastIndexOf("@"));
    for (const messageId of [`<${id}@elsewhere.example>`, `<${id}x@${unit.deps.mailDomain}>`, `<${id}>`, `<@${unit.deps.mailDomain}>`, "<short@x>", `<${id}@${unit.deps.mailDomain}@x>`, `<${"a".repeat(65)}@${unit.deps.mailDomain}>`, `<${id}!@${unit.deps.mailDomain}>`, `<<${bare}>`, `<${bare}>>`, `x<${bare}>`]) {
      expect(await take({ messageId, type: "hard" }), messageId).toEqual({ recorded: 0, duplicates: 0, unknown: 1 });
    }
    expect(await bounce(m.id)).toEqual({ bounced_at: null, bounce_kind: null, bounce_reason: null });
    expect(await take({ messageId: `<${bare}>`, type: "hard" })).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
  });

  it("finds the message by its VERP return path at the bounce domain, and nothing at any other", async () => {
    const m = await sent("hook.e@dealer.example");
    const n = await sent("hook.f@dealer.example");
    expect(await take({ returnPath: `bounce+${m.id}@elsewhere.example`, type: "hard" })).toEqual({ recorded: 0, duplicates: 0, unknown: 1 });
    // The return path decides when given: a Message-ID beside it is not consulted.
    expect(await take({ returnPath: `bounce+${m.id}@elsewhere.example`, messageId: m.messageId, type: "hard" })).toEqual({ recorded: 0, duplicates: 0, unknown: 1 });
    expect(await take({ returnPath: `bounce+${m.id}@BOUNCES.famos.test`, type: "hard" })).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
    expect(await take([{ returnPath: `bounce+${n.id}@bounces.famos.test`, type: "soft" }, { returnPath: "bounce+nosuchmessage1@bounces.famos.test", type: "hard" }])).toEqual({ recorded: 1, duplicates: 0, unknown: 1 });
  });

  it("checks a provider's \"hard\" against its status: the address's fault stays hard, a policy or FAMOS's own sender is soft; a \"soft\" stays soft, a verdict without a status stands", async () => {
    const cases: [{ type: "hard" | "soft"; status?: string; reason: string }, "hard" | "soft"][] = [
      // Postfix's report for a mistyped domain: about the recipient in a report (not at RCPT TO).
      [{ type: "hard", status: "5.4.4", reason: "Host or domain name not found. Name service error for name=dealer.exmaple" }, "hard"],
      [{ type: "hard", status: "5.7.1", reason: "550 5.7.1 Relaying denied" }, "soft"],
      [{ type: "hard", status: "5.1.8", reason: "550 5.1.8 Access denied, bad outbound sender" }, "soft"],
      // A provider that calls an unknown mailbox "soft" (it will try again itself): its verdict stands.
      [{ type: "soft", status: "5.1.1", reason: "550 5.1.1 User unknown" }, "soft"],
      [{ type: "hard", reason: "550 no such user" }, "hard"],
    ];
    for (const [i, [report, kind]] of cases.entries()) {
      const m = await sent(`hook.kind${i}@dealer.example`);
      expect(await take({ ...report, messageId: m.messageId })).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
      expect((await bounce(m.id)).bounce_kind, report.reason).toBe(kind);
    }
  });
});

describe("takeWebhookReports without a bounce domain (unit tier)", () => {
  const unit = useUnitDeps();
  it("counts every return path as unknown: FAMOS sent no mail with one", async () => {
    const user = await addUser(unit.deps);
    const id = await enqueueMail(unit.deps.db, unit.now(), unit.deps.random, unit.deps.mailDomain, { userId: user.id, kind: "code.signin", recipient: user.otp_email!, subject: "s", text: "t", html: "t" });
    expect(unit.deps.config.bounce.domain).toBeFalsy();
    expect(await takeWebhookReports(unit.deps, { returnPath: `bounce+${id}@bounces.famos.test`, type: "hard" })).toEqual({ recorded: 0, duplicates: 0, unknown: 1 });
  });
});
