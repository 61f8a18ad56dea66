import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { startBounceListener, type BounceListener } from "../../src/bounce/listener.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";
import { extractCode, type ReceivedMail } from "../support/smtp.ts";
import { DIALECTS } from "../store/dialects.ts";

/**
 * Issue 15, bounces: a real SMTP round trip. FAMOS mails a code with a VERP return path; the test's
 * receiving server answers with an RFC 3464 report sent to FAMOS's bounce listener; OTP capture, the
 * support user page and "Needs attention" then say the address is undeliverable, until a code sent to
 * it is confirmed. On SQLite and PostgreSQL.
 */
describe.each(DIALECTS)("bounces over SMTP (%s)", (database) => {
  let t: TestApp;
  let listener: BounceListener;
  let support: FormClient;
  let ip = 0;

  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test" } });
    listener = await startBounceListener(t.deps, { host: "127.0.0.1", port: 0 });
    const admin = await addUser(t.deps, { role: "support", email: `support.${database}@famos.test` });
    support = new FormClient(t.app, "10.9.0.1");
    await signInFully(support, t.smtp, admin);
  });
  afterAll(async () => {
    await listener?.close();
    await t?.close();
  });

  const codeMailFor = (email: string) => codeMail(t, email, `10.9.1.${(ip += 1)}`);

  function bounce(mail: ReceivedMail, action: "failed" | "delayed", status: string, diagnostic: string) {
    return sendFromNullSender(listener.port, mail.envelopeFrom, dsnFor(mail, { action, status, diagnostic }));
  }

  it("sends each message with its own return path under FAMOS_BOUNCE_DOMAIN", async () => {
    const { mail } = await codeMailFor(`verp.${database}@dealer.example`);
    expect(mail.envelopeFrom).toMatch(/^bounce\+[A-Za-z0-9_-]{22}@bounces\.famos\.test$/);
    expect(mail.from).toContain("no-reply@famos.test");
  });

  it("a hard bounce: OTP capture says undeliverable with \"Entered a wrong email?\", support sees it, a confirmed code clears it", async () => {
    const email = `nobody.${database}@dealer.example`;
    const { user, client, mail } = await codeMailFor(email);
    await bounce(mail, "failed", "5.1.1", "550 5.1.1 <nobody@dealer.example>: Recipient address rejected: User unknown");

    const otp = await client.get("/otp");
    expect(otp.body).toContain("The email with your code could not be delivered to");
    expect(otp.body).toMatch(/could not be delivered[^]*<a href="\/wrong-email">Entered a wrong email\?<\/a>/);
    const status = JSON.parse((await client.get("/otp/delivery")).body) as { pending: boolean; html: string };
    expect(status.pending).toBe(false);
    expect(status.html).toContain("could not be delivered");

    const page = await support.get(`/support/users/${user.id}`);
    expect(page.body).toContain("Undeliverable since");
    expect(page.body).toContain("Recipient address rejected: User unknown");
    expect(page.body).toContain("then bounced: undeliverable");
    const attention = await support.get("/support/attention");
    expect(attention.statusCode).toBe(200);
    expect(attention.body).toContain(`>${user.login_id}</a>`);
    const audit = await t.deps.db.selectFrom("audit").select(["actor", "detail"]).where("event", "=", "mail.bounced").where("subject", "=", user.login_id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toBe("bounce:smtp");
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ bounce: "hard", status: "5.1.1", to: email });

    // The code did reach a mailbox after all (the test server kept it): confirming it clears the address.
    expect((await client.post("/otp", { code: extractCode(mail.text) })).statusCode).toBe(303);
    expect(await addressProblems(t.deps.db, email)).toBeNull();
    expect((await support.get("/support/attention")).body).not.toContain(`>${user.login_id}</a>`);
  });

  it("RFC 3463: a report whose status is about FAMOS's sending address (5.1.7, 5.1.8), the relay's policy (5.7.x), the receiving system (5.3.x) or routing (5.4.x) leaves the recipient's address deliverable", async () => {
    // Exchange Online answers "550 5.1.8 Access denied, bad outbound sender" when FAMOS's sending account
    // is blocked: the same report would come back for every staff member at once.
    const email = `sender.blocked.${database}@dealer.example`;
    const cases = [
      ["5.1.8", "550 5.1.8 Access denied, bad outbound sender"],
      ["5.1.7", "550 5.1.7 Invalid sender address syntax"],
      ["5.7.1", "550 5.7.1 Relaying denied"],
      ["5.3.2", "554 5.3.2 System not accepting network messages"],
      ["5.4.6", "554 5.4.6 Routing loop detected"],
    ] as const;
    for (const [status, diagnostic] of cases) {
      const { mail } = await codeMailFor(email);
      await bounce(mail, "failed", status, diagnostic);
    }
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ undeliverableAt: null, softBounces: cases.length });
    const audit = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.bounced").execute();
    const mine = audit.map((a) => JSON.parse(a.detail) as { bounce: string; to: string }).filter((d) => d.to === email);
    expect(mine.map((d) => d.bounce)).toEqual(cases.map(() => "soft"));
    // A report that blames the mailbox itself still does.
    const gone = `gone.${database}@dealer.example`;
    const { mail } = await codeMailFor(gone);
    await bounce(mail, "failed", "5.2.1", "550 5.2.1 Mailbox disabled, not accepting messages");
    expect(await addressProblems(t.deps.db, gone)).toMatchObject({ undeliverableAt: expect.any(Number) });
  });

  it("counts soft bounces (delays, a full mailbox) without calling the address undeliverable, and a report twice once", async () => {
    const email = `full.${database}@dealer.example`;
    const first = await codeMailFor(email);
    await bounce(first.mail, "delayed", "4.4.1", "451 4.4.1 Connection timed out while talking to mailstore");
    await bounce(first.mail, "delayed", "4.4.1", "451 4.4.1 Connection timed out while talking to mailstore");
    const second = await codeMailFor(email);
    await bounce(second.mail, "failed", "5.2.2", "552 5.2.2 Mailbox full: quota exceeded for this recipient");
    expect(await addressProblems(t.deps.db, email)).toMatchObject({ undeliverableAt: null, softBounces: 2 });
    const otp = await second.client.get("/otp");
    expect(otp.body).not.toContain("could not be delivered");
    expect(otp.body).toContain("The receiving mail server has reported delays for");
    const page = await support.get(`/support/users/${second.user.id}`);
    expect(page.body).toContain("2 soft bounces, the last at");
    expect(page.body).toContain("Mailbox full: quota exceeded");
  });

  it("ASVS 7.3.1 / 5.3.1: a report's text carrying terminal escapes (a forged DSN to the VERP address the user read in her own mail) is kept without control characters", async () => {
    const email = `escape.${database}@dealer.example`;
    const { mail } = await codeMailFor(email);
    // ESC ] 0 ; … BEL retitles an operator's terminal, ESC [ 2 J clears it, ESC ] 52 writes the clipboard;
    // U+009B is the one-character CSI. `famos user show` prints this reason as it is stored.
    await bounce(mail, "failed", "5.1.1", "550 5.1.1 \u001b]0;owned\u0007gone\u001b[2J\u001b]52;c;ZWNobyBvd25lZA==\u0007\u009b31mred\ttab");
    const stored = await addressProblems(t.deps.db, email);
    expect(stored?.undeliverableReason).toBe("550 5.1.1 ]0;owned gone [2J ]52;c;ZWNobyBvd25lZA== 31mred tab");
    const outbox = await t.deps.db.selectFrom("outbox").select("bounce_reason").where("recipient", "=", email).execute();
    const audit = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.bounced").where("detail", "like", `%${email}%`).execute();
    for (const text of [...outbox.map((r) => r.bounce_reason ?? ""), ...audit.map((r) => (JSON.parse(r.detail) as { reason: string }).reason)]) {
      expect(text).toContain("5.1.1");
      expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });

  it("Trojan Source (as for a notice's title): a forged report's bidirectional controls, zero-width characters and line separators are kept as U+FFFD or a space, so the console's own words after the reason read in order", async () => {
    const email = `bidi.${database}@dealer.example`;
    const { user, mail } = await codeMailFor(email);
    // U+202E reverses everything after it to the end of its paragraph: on the user's page and on Needs
    // attention that is FAMOS's own words after the reason ("; mailbox full", the soft count).
    await bounce(mail, "failed", "5.1.1", "550 5.1.1 gone\u202e\u200b reset to evil\u2066\u2028second line\u2029third");
    const stored = (await addressProblems(t.deps.db, email))?.undeliverableReason ?? "";
    expect(stored).toBe("550 5.1.1 gone\ufffd\ufffd reset to evil\ufffd second line third");
    const outbox = await t.deps.db.selectFrom("outbox").select("bounce_reason").where("recipient", "=", email).execute();
    const audit = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.bounced").where("detail", "like", `%${email}%`).execute();
    const page = (await support.get(`/support/users/${user.id}`)).body;
    const attention = (await support.get("/support/attention")).body;
    for (const text of [...outbox.map((r) => r.bounce_reason ?? ""), ...audit.map((r) => (JSON.parse(r.detail) as { reason: string }).reason), page, attention]) {
      expect(text).toContain("reset to evil");
      expect(text).not.toMatch(/[\p{Cf}\u2028\u2029]/u);
    }
  });

  it("SPEC Locks (no stranger keeps the others out): a report a stranger writes to her own bounce address, naming a dealership's shared mailbox and a colleague's mail, marks no address (its Final-Recipient, the desk, is not what her mail was sent to: a forward's report, audited on her own trail); a true bounce of the shared one never stops its codes", async () => {
    const desk = `desk.${database}@dealer.example`;
    const { mail: deskMail } = await codeMailFor(desk);
    const { mail: own } = await codeMailFor(`stranger.${database}@elsewhere.example`);
    // Her own code mail shows her its return path; the report names the desk, its Message-ID and headers.
    await sendFromNullSender(listener.port, own.envelopeFrom, dsnFor(deskMail, { action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 forged: no such user" }));
    expect(await addressProblems(t.deps.db, desk)).toBeNull();
    // Before forwards were told apart (forward-reports.ts forwardOf) it marked her own address; never the desk.
    expect(await addressProblems(t.deps.db, `stranger.${database}@elsewhere.example`)).toBeNull();
    const forwarded = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "mail.forward-bounced").where("detail", "like", `%stranger.${database}@%`).execute();
    expect(forwarded.map((a) => JSON.parse(a.detail) as unknown)).toEqual([expect.objectContaining({ to: `stranger.${database}@elsewhere.example`, forwardedTo: desk })]);

    // The desk mailbox bounces for real: it is marked, and a colleague still gets a code mailed to it.
    await bounce(deskMail, "failed", "5.1.1", "550 5.1.1 mailbox unknown");
    expect(await addressProblems(t.deps.db, desk)).toMatchObject({ undeliverableAt: expect.any(Number) });
    const { client: colleague, mail: next } = await codeMailFor(desk);
    expect(extractCode(next.text)).toMatch(/^\d{6}$/);
    expect((await colleague.get("/otp")).statusCode).toBe(200);
    expect((await colleague.post("/otp", { code: extractCode(next.text) })).statusCode).toBe(303);
    expect(await addressProblems(t.deps.db, desk)).toBeNull();
  });

  it("takes mail only for its own bounce addresses of messages it sent", async () => {
    const { mail } = await codeMailFor(`taken.${database}@dealer.example`);
    const report = dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 no such user here at all, really" });
    for (const to of ["postmaster@bounces.famos.test", "bounce+AAAAAAAAAAAAAAAAAAAAAA@bounces.famos.test", mail.envelopeFrom.replace("bounces.famos.test", "elsewhere.test")]) {
      await expect(sendFromNullSender(listener.port, to, report), to).rejects.toThrow(/550/);
    }
    expect(await addressProblems(t.deps.db, `taken.${database}@dealer.example`)).toBeNull();
  });
});
