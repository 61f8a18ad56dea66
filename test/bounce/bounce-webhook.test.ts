import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressProblems } from "../../src/bounce/addresses.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { extractCode } from "../support/smtp.ts";

const SECRET = "w".repeat(20) + "0123456789abcdefghij";

/** Issue 15: `POST /hooks/bounce`, the mail providers' way in, with a shared secret. */
describe("the bounce webhook", () => {
  let t: TestApp;
  let ip = 0;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test", FAMOS_BOUNCE_WEBHOOK_SECRET: SECRET } });
  });
  afterAll(async () => t?.close());

  const codeMailFor = (email: string) => codeMail(t, email, `10.8.1.${(ip += 1)}`);
  const hook = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${SECRET}` }) =>
    t.app.inject({ method: "POST", url: "/hooks/bounce", headers: { "content-type": "application/json", ...headers }, payload: typeof body === "string" ? body : JSON.stringify(body) });

  it("refuses a request without the shared secret, or with another, and changes nothing", async () => {
    const { mail } = await codeMailFor("hook.secret@dealer.example");
    const report = { messageId: mail.messageId, type: "hard" };
    expect((await hook(report, {})).statusCode).toBe(401);
    expect((await hook(report, { authorization: `Bearer ${SECRET.slice(0, -1)}x` })).statusCode).toBe(401);
    expect((await hook(report, { authorization: SECRET })).statusCode).toBe(401);
    expect(await addressProblems(t.deps.db, "hook.secret@dealer.example")).toBeNull();
  });

  it("takes the scheme in any case, as HTTP names it (RFC 9110 11.1: bearer, BEARER)", async () => {
    for (const scheme of ["bearer", "BEARER"]) {
      const response = await hook({ messageId: "<nosuchmessage001@famos.test>", type: "hard" }, { authorization: `${scheme} ${SECRET}` });
      expect(response.statusCode, scheme).toBe(200);
      expect(response.json()).toEqual({ recorded: 0, duplicates: 0, unknown: 1 });
    }
  });

  it("marks the address undeliverable from a hard bounce named by Message-ID; OTP capture says so", async () => {
    const { client, mail } = await codeMailFor("hook.hard@dealer.example");
    const response = await hook({ messageId: mail.messageId, type: "hard", status: "5.1.1", reason: "550 5.1.1 mailbox unavailable" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
    expect(await addressProblems(t.deps.db, "hook.hard@dealer.example")).toMatchObject({ undeliverableReason: "550 5.1.1 mailbox unavailable" });
    const otp = await client.get("/otp");
    expect(otp.body).toContain("could not be delivered");
    expect(otp.body).toContain("Entered a wrong email?");
    const audit = await t.deps.db.selectFrom("audit").select("actor").where("event", "=", "mail.bounced").execute();
    expect(audit.map((a) => a.actor)).toContain("bounce:webhook");
  });

  it("takes a list, names messages by return path too, counts a repeat once and an unknown message as unknown", async () => {
    const { mail } = await codeMailFor("hook.soft@dealer.example");
    const soft = { returnPath: mail.envelopeFrom, type: "soft", reason: "421 try later" };
    const response = await hook([soft, soft, { messageId: "<nosuchmessage000@famos.test>", type: "hard" }]);
    expect(response.json()).toEqual({ recorded: 1, duplicates: 1, unknown: 1 });
    expect(await addressProblems(t.deps.db, "hook.soft@dealer.example")).toMatchObject({ softBounces: 1, undeliverableAt: null });
    const counted = (await t.deps.metrics.mailBounced.get()).values.find((v) => v.labels.kind === "soft");
    expect(counted?.value).toBe(1);
  });

  it("ignores, for the address, a late bounce of mail older than a code confirmed at it", async () => {
    const email = "hook.late@dealer.example";
    const { client, mail: first } = await codeMailFor(email);
    t.clock.advance(30_000);
    await client.get("/otp");
    const before = t.smtp.messages.length;
    expect((await client.post("/otp/regenerate")).statusCode).toBe(303);
    const second = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(email) && t.smtp.messages.indexOf(m) >= before);
    expect((await client.post("/otp", { code: extractCode(second.text) })).statusCode).toBe(303);
    t.clock.advance(60_000);
    expect((await hook({ messageId: first.messageId, type: "hard", reason: "550 late report" })).json()).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
    expect(await addressProblems(t.deps.db, email)).toBeNull();
  });

  it("ignores a late bounce of one colleague's mail once another has confirmed a code at their shared address", async () => {
    const email = "hook.shared@dealer.example";
    const { client: first, mail } = await codeMailFor(email);
    t.clock.advance(1000);
    const { client: second, mail: theirs } = await codeMailFor(email);
    await second.get("/otp");
    expect((await second.post("/otp", { code: extractCode(theirs.text) })).statusCode).toBe(303);
    t.clock.advance(60_000);
    expect((await hook({ messageId: mail.messageId, type: "hard", status: "5.1.1", reason: "550 5.1.1 late report" })).json()).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
    // The mailbox took a code after that mail was written: nobody who shares it is told it cannot.
    expect(await addressProblems(t.deps.db, email)).toBeNull();
    const { client: third } = await codeMailFor(email);
    expect((await third.get("/otp")).body).not.toContain("could not be delivered");
    // The bounced mail itself is still told as bounced to the one it was for.
    expect((await first.get("/otp")).body).toContain("The email with your code could not be delivered");
  });

  it("takes a provider's \"hard\" as soft when its status blames something else (5.7.1 a policy, 5.1.8 FAMOS's own sender): the address stays deliverable", async () => {
    for (const [status, reason] of [["5.7.1", "550 5.7.1 Relaying denied"], ["5.1.8", "550 5.1.8 Access denied, bad outbound sender"], ["4.2.2", "452 4.2.2 mailbox full"]] as const) {
      const email = `hook.notaddress.${status}@dealer.example`;
      const { mail } = await codeMailFor(email);
      expect((await hook({ messageId: mail.messageId, type: "hard", status, reason })).json(), status).toEqual({ recorded: 1, duplicates: 0, unknown: 0 });
      expect(await addressProblems(t.deps.db, email), status).toMatchObject({ softBounces: 1, undeliverableAt: null });
    }
    // Without a status the provider's verdict stands.
    const { mail } = await codeMailFor("hook.nostatus@dealer.example");
    await hook({ messageId: mail.messageId, type: "hard", reason: "550 gone" });
    expect(await addressProblems(t.deps.db, "hook.nostatus@dealer.example")).toMatchObject({ undeliverableAt: expect.any(Number) });
  });

  it("answers bad input with 400 and a clear message, never a 500", async () => {
    for (const body of ["{not json", JSON.stringify({ type: "hard" }), JSON.stringify({ messageId: "<a@b>", type: "bounced" }), JSON.stringify([]), JSON.stringify({ messageId: "<a@b>", type: "hard", extra: 1 })]) {
      const response = await hook(body);
      expect(response.statusCode, body).toBe(400);
    }
    const form = await t.app.inject({ method: "POST", url: "/hooks/bounce", headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/x-www-form-urlencoded" }, payload: "type=hard" });
    expect(form.statusCode).toBe(400);
  });

  it("SPEC Bad input: refuses in JSON, as it answers, whatever Accept the provider sends (none, */*, text/html): a missing secret, a body that is no report, a form, a NUL", async () => {
    const refusals: Array<[number, Record<string, string>, string]> = [
      [401, { "content-type": "application/json" }, JSON.stringify({ messageId: "<a@b>", type: "hard" })],
      [400, { "content-type": "application/json", authorization: `Bearer ${SECRET}` }, "{not json"],
      [400, { "content-type": "application/json", authorization: `Bearer ${SECRET}` }, JSON.stringify({ type: "bounced" })],
      [400, { "content-type": "application/json", authorization: `Bearer ${SECRET}` }, '{"messageId":"\\u0000","type":"hard"}'],
      [415, { "content-type": "text/plain", authorization: `Bearer ${SECRET}` }, "type=hard"],
    ];
    for (const accept of [undefined, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"]) {
      for (const [status, headers, payload] of refusals) {
        const response = await t.app.inject({ method: "POST", url: "/hooks/bounce", headers: { ...headers, ...(accept ? { accept } : {}) }, payload });
        const what = `${status} ${payload.slice(0, 30)} accept ${accept}`;
        expect(response.statusCode, what).toBe(status);
        expect(response.headers["content-type"], what).toMatch(/^application\/json/);
        expect(response.json(), what).toEqual({ error: expect.stringMatching(/\w/), statusCode: status });
      }
    }
  });

  it("answers JSON nested 100,000 deep (under the body limit) with 400, with or without the secret, and keeps serving", async () => {
    // The input guard looked for NUL characters by recursion: this body overflowed its stack (500).
    const nested = "[".repeat(100_000) + "]".repeat(100_000);
    for (const headers of [{ authorization: `Bearer ${SECRET}` }, {}] as Array<Record<string, string>>) {
      const response = await hook(nested, headers);
      expect(response.statusCode, JSON.stringify(headers)).toBeLessThan(500);
      expect(response.body).not.toContain("Something went wrong");
    }
    const refused = await hook(nested);
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("The body is not a bounce report");
    const wide = `[${"1,".repeat(99_999)}1]`;
    expect((await hook(wide)).statusCode).toBe(400);
    // A NUL at the bottom of 30,000 objects is still found (and refused) by the guard.
    const objects = await hook(`${'{"a":'.repeat(30_000)}"\\u0000"${"}".repeat(30_000)}`);
    expect(objects.statusCode).toBe(400);
    expect(objects.body).toContain("The request contained a character FAMOS does not accept.");
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });

  it("is not there without FAMOS_BOUNCE_WEBHOOK_SECRET, and JSON stays refused on every other route", async () => {
    const plain = await createTestApp();
    try {
      expect((await plain.app.inject({ method: "POST", url: "/hooks/bounce", headers: { "content-type": "application/json" }, payload: "{}" })).statusCode).toBe(404);
    } finally {
      await plain.close();
    }
    const json = await t.app.inject({ method: "POST", url: "/login", headers: { "content-type": "application/json" }, payload: "{}" });
    expect(json.statusCode).toBe(415);
  });
});
