import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { sendRaw } from "./fuzz-wire.ts";
import { liveSessions, snapshot } from "./helpers.ts";

/**
 * The attacker's round over real HTTP (a listening server, undici's fetch, the Origin a browser
 * sends), on SQLite and PostgreSQL: races on one code and on Regenerate, replays after sign-out, a
 * CSRF token of another browser, and odd input. Each either does exactly what the rule allows once,
 * or gets a clear 4xx and changes nothing stored.
 */
describe.each(DIALECTS)("attacks over real HTTP (%s)", (database) => {
  let t: TestApp;
  let base: string;
  const browser = () => new FormClient(overHttp(base));
  const atCode = (user?: Awaited<ReturnType<typeof addUser>>) => signIn({ mailbox: t.mailbox, deps: t.deps }, { until: "otp", client: browser(), ...(user ? { user } : {}) });
  const signedIn = () => signIn({ mailbox: t.mailbox, deps: t.deps }, { client: browser() });

  beforeAll(async () => {
    t = await createTestApp({ database });
    base = await listen(t);
  });
  afterAll(async () => t.close());

  it("SPEC Codes: two POSTs of the right code at once make one signed-in session, audited once", async () => {
    const { client, user, code } = await atCode();
    const answers = await Promise.all([client.post("/otp", { code: code! }), client.post("/otp", { code: code! })]);
    expect(answers.filter((a) => a.statusCode === 303 && a.headers.location === "/")).toHaveLength(1);
    for (const a of answers) expect(a.statusCode).toBeLessThan(500);
    const live = await liveSessions(t.deps, user.id);
    expect(live.map((s) => s.stage)).toEqual(["full"]);
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "code.confirmed" })).toHaveLength(1);
  });

  it("SPEC Regenerate: two Regenerates at once, past the wait, send one new code (the wait holds within the race)", async () => {
    const { client, user } = await atCode();
    t.clock.advance(31_000);
    const answers = await Promise.all([client.post("/otp/regenerate"), client.post("/otp/regenerate")]);
    for (const a of answers) expect(a.statusCode).toBeLessThan(500);
    const codes = await t.deps.db.selectFrom("codes").select(["id", "voided_at"]).where("user_id", "=", user.id).execute();
    expect(codes).toHaveLength(2);
    expect(codes.filter((c) => c.voided_at === null)).toHaveLength(1);
    expect(await queryAudit(t.deps.db, { subject: user.login_id, event: "code.regenerated" })).toHaveLength(1);
    const mails = await t.deps.db.selectFrom("outbox").select("id").where("user_id", "=", user.id).where("kind", "like", "code.%").execute();
    expect(mails).toHaveLength(2);
  });

  it("ASVS 3.3.1 / 2.7.3: after sign-out the old cookie opens nothing and the used code signs in nobody", async () => {
    const { client, user, code } = await signedIn();
    const oldCookie = client.cookieHeader();
    expect((await client.post("/logout")).headers.location).toBe("/login?signedOut=1");
    const replayed = new FormClient(overHttp(base), "127.0.0.1", { cookie: oldCookie });
    const profile = await replayed.get("/profile");
    expect(profile.statusCode).toBe(303);
    expect(profile.headers.location).toMatch(/^\/login/);
    expect(await liveSessions(t.deps, user.id)).toEqual([]);
    const again = await atCode(user);
    const replay = await again.client.post("/otp", { code: code! });
    expect(replay.statusCode).toBe(401);
    expect((await liveSessions(t.deps, user.id)).map((s) => s.stage)).toEqual(["otp"]);
  });

  it("ASVS 4.2.2: a CSRF token from another browser's session is refused with 403 and changes nothing", async () => {
    const victim = await signedIn();
    const attacker = await signedIn();
    const before = await snapshot(t.deps.db);
    for (const [url, fields] of [["/logout", {}], ["/profile/sessions/end-others", {}]] as const) {
      const forged = await victim.client.post(url, fields, { csrf: attacker.client.csrf! });
      expect(forged.statusCode, url).toBe(403);
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    expect((await victim.client.get("/profile")).statusCode).toBe(200);
  });

  it("ASVS 13.1.3 / 5.1.4: a 10 MB body gets 413, NUL bytes 400, a Unicode login ID the unknown login ID's answer; nothing stored from the first two, and the server goes on", async () => {
    const client = browser();
    await client.get("/login");
    const before = await snapshot(t.deps.db);
    const huge = await client.post("/login", { loginId: "x", password: "p".repeat(10 * 1024 * 1024) });
    expect(huge.statusCode).toBe(413);
    for (const fields of [{ loginId: "user\u0000one", password: "whatever-password" }, { loginId: "user", password: "pass\u0000word-long-enough" }]) {
      await client.get("/login");
      expect((await client.post("/login", fields)).statusCode).toBe(400);
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    const unknown = async (loginId: string) => {
      await client.get("/login");
      const answer = await client.post("/login", { loginId, password: "whatever-password" });
      return { status: answer.statusCode, body: answer.body.replace(/name="_csrf" value="[^"]+"/, "").replace(/value="[^"]*"/g, "") };
    };
    const plain = await unknown(`nobody.${Date.now().toString(36)}`);
    for (const odd of ["ｎｏｂｏｄｙ\u{1F600}", "\u202Eevil", "ä".repeat(64)]) expect(await unknown(odd)).toEqual(plain);
    expect(plain.status).toBe(401);
    expect((await browser().get("/login")).statusCode).toBe(200);
  });

  it("RFC 9112 §3.2: an HTTP/1.1 request without a Host header, or with two, gets the 400 page saying FAMOS could not read it (in the reader's language), and stores nothing; HTTP/1.0 may leave it out", async () => {
    const port = Number(new URL(base).port);
    const { client } = await signedIn();
    const before = await snapshot(t.deps.db);
    const own: [string, string] = ["host", `127.0.0.1:${port}`];
    for (const hosts of [[], [own, ["host", "evil.example"]], [own, own]] as Array<Array<[string, string]>>) {
      for (const [language, words] of [["en-GB", "FAMOS could not read that request."], ["de", "FAMOS konnte diese Anfrage nicht lesen."]]) {
        for (const [method, target] of [["GET", "/profile"], ["POST", "/logout"]]) {
          const answer = await sendRaw(port, { method: method!, target: target!, headers: [...hosts, ["cookie", client.cookieHeader()], ["accept-language", language!]] });
          const what = `${method} ${target} with ${hosts.length} Host headers, ${language}`;
          expect(answer.status, what).toBe(400);
          expect(answer.body, what).toContain(`<html lang="${language}"`);
          expect(answer.body, what).toContain(words);
        }
      }
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
    expect((await client.get("/profile")).statusCode).toBe(200);
    const http10 = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const socket = connect(port, "127.0.0.1", () => socket.end("GET /login HTTP/1.0\r\n\r\n"));
      socket.on("data", (chunk) => chunks.push(chunk)).on("close", () => resolve(Buffer.concat(chunks).toString()));
    });
    expect(http10).toMatch(/^HTTP\/1\.1 200 /);
  });

  it("RFC 9110 §10.1.1: an Expect other than 100-continue is answered as if absent, with FAMOS's own page, not Node's bare 417 (it is a MAY)", async () => {
    const port = Number(new URL(base).port);
    const before = await snapshot(t.deps.db);
    for (const expectation of ["999-weird", "200-ok; x=1", "\u00ff"]) {
      const headers: Array<[string, string]> = [["host", `127.0.0.1:${port}`], ["expect", expectation], ["accept-language", "fr"]];
      const page = await sendRaw(port, { method: "GET", target: "/login", headers });
      expect(page.status, expectation).toBe(200);
      expect(page.body, expectation).toContain('<html lang="fr"');
      const forged = await sendRaw(port, { method: "POST", target: "/login", headers: [...headers, ["content-type", "application/x-www-form-urlencoded"]], body: Buffer.from("loginId=a&password=b") });
      expect(forged.status, expectation).toBe(403);
      expect(forged.body, expectation).toContain('<html lang="fr"');
    }
    expect(await snapshot(t.deps.db)).toEqual(before);
  });
});
