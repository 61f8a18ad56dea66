import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { extractCode } from "../support/smtp.ts";

/**
 * A relay that refuses FAMOS itself — AUTH answered 535 because FAMOS_SMTP_URL carries the wrong
 * password — says nothing of any message: every message would be refused the same way. The sender
 * pauses as for a relay it cannot reach (src/mail/relay-pause.ts), keeps the mail queued, tells the
 * operator once what to fix, and sends everything once the relay takes FAMOS's login. A code's mail
 * still ends with its code. Real smtp-server with AUTH, SQLite, the injected clock.
 */
describe("a relay that refuses FAMOS's login (535), then is fixed", () => {
  const relayUsers: Record<string, string> = { famos: "the-relay-password" };
  const logged: string[] = [];
  let t: TestApp;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    t = await createTestApp({ relayAuth: { users: relayUsers, login: { user: "famos", pass: "an-old-password" } }, logger: pino({ level: "info" }, sink) });
  });
  afterAll(async () => t.close());

  const rows = () => t.deps.db.selectFrom("outbox").select(["recipient", "state", "attempts", "last_error"]).orderBy("created_at").execute();
  const messages = (level: number) => logged.map((line) => JSON.parse(line) as { level: number; msg: string; err?: string }).filter((r) => r.level >= level);

  it("keeps every message queued, logs the relay's refusal once with what to check, and sends it all once the password works; a code's mail still ends with its code", async () => {
    const now = t.clock.now();
    for (let i = 0; i < 3; i += 1) {
      await enqueueMail(t.deps.db, now, cryptoRandom, t.deps.mailDomain, { userId: null, kind: "rollout.announce", recipient: `wave${i}@dealer.example`, subject: `Wave ${i}`, text: "t", html: "<p>h</p>" });
    }
    await t.services.sender.drain();
    const user = await addUser(t.deps, { loginId: "relay-login", email: "relay-login@dealer.example" });
    const client = new FormClient(t.app, "10.8.0.1");
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    await t.services.sender.drain();

    const during = await rows();
    expect(during.map((r) => r.state)).toEqual(["queued", "queued", "queued", "queued"]);
    expect(during.find((r) => r.attempts > 0)?.last_error).toMatch(/535/);
    expect((await client.get("/otp")).body).toContain("The mail server has not taken the email for");
    const warnings = messages(40);
    expect(warnings.filter((r) => /relay/.test(r.msg))).toEqual([
      expect.objectContaining({ msg: expect.stringMatching(/the mail relay refuses FAMOS.*FAMOS_SMTP_URL/), err: expect.stringMatching(/535/) }),
    ]);
    expect(warnings.filter((r) => r.msg === "mail failed")).toEqual([]);

    // The relay's administrator sets the password FAMOS has.
    relayUsers.famos = "an-old-password";
    t.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(1));
    await t.services.sender.drain();
    expect((await rows()).map((r) => r.state)).toEqual(["sent", "sent", "sent", "sent"]);
    expect(t.smtp.messages.map((m) => m.envelopeTo[0]).sort()).toEqual(["relay-login@dealer.example", "wave0@dealer.example", "wave1@dealer.example", "wave2@dealer.example"]);
    const code = extractCode(t.smtp.messages.find((m) => m.envelopeTo[0] === user.otp_email)!.text);
    expect((await client.post("/otp", { code })).headers.location).toBe("/");
  });

});

describe("a relay that goes on refusing FAMOS's login", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ relayAuth: { users: { famos: "the-relay-password" }, login: { user: "famos", pass: "an-old-password" } } });
  });
  afterAll(async () => t.close());
  const rows = () => t.deps.db.selectFrom("outbox").select(["recipient", "state"]).execute();

  it("a code's mail is not kept past its code: it fails at the code's expiry while the notices wait", async () => {
    const user = await addUser(t.deps, { loginId: "relay-expiry", email: "relay-expiry@dealer.example" });
    const client = new FormClient(t.app, "10.8.0.2");
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    await enqueueMail(t.deps.db, t.clock.now(), cryptoRandom, t.deps.mailDomain, { userId: null, kind: "rollout.announce", recipient: "late-wave@dealer.example", subject: "Late wave", text: "t", html: "<p>h</p>" });
    await t.services.sender.drain();
    const stateOf = async (recipient: string) => (await rows()).find((r) => r.recipient === recipient)?.state;
    for (let minute = 0; minute < 20; minute += 1) {
      t.clock.advance(60_000);
      await t.services.sender.drain();
    }
    expect(await stateOf(user.otp_email!)).toBe("failed");
    expect(await stateOf("late-wave@dealer.example")).toBe("queued");
  });
});
