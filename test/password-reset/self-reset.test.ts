import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { translator } from "../../src/i18n/translator.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, signInFully, submitPassword } from "../support/client.ts";

const strip = (body: string) => body.replace(/name="_csrf" value="[^"]+"/g, "");

/** Issue 11, item 2: FAMOS_PASSWORD_RESET=self — the sign-in's code rules, caps and locks; no enumeration. */
describe("self-service password reset", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self", FAMOS_OTP_PER_HOUR: "3" } });
  });
  afterAll(async () => t?.close());

  async function start(client: FormClient, loginId: string) {
    await client.get("/forgot-password");
    const answer = await client.post("/forgot-password", { loginId });
    // The account's work follows the answer (web/after-reply.ts): done before the test reads its results.
    await t.app.afterReply.settled();
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe("/forgot-password/code");
    return answer;
  }

  it("resets with the code, ends the old sessions, and the next sign-in asks for a fresh code", async () => {
    const user = await addUser(t.deps, { loginId: "self.reset", email: "self@dealer.example" });
    const old = new FormClient(t.app);
    await signInFully(old, t.smtp, user);
    const client = new FormClient(t.app);
    const before = t.smtp.messages.length;
    await start(client, "Self.Reset");
    const code = await nextCode(t.smtp, "self@dealer.example", before);
    expect((await client.get("/forgot-password/code")).body).toContain("Please enter the received code");
    const done = await client.post("/forgot-password/code", { code, newPassword: "reset by myself ok", confirmNewPassword: "reset by myself ok" });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/login?reset=1");
    expect((await old.get("/profile")).statusCode).toBe(303);
    expect((await submitPassword(new FormClient(t.app), "self.reset", user.password)).statusCode).toBe(401);
    const fresh = await submitPassword(new FormClient(t.app), "self.reset", "reset by myself ok");
    expect(fresh.headers.location).toBe("/otp");
    // The browser's reset state is gone, and the code is used: nothing resets again.
    const replay = await client.post("/forgot-password/code", { code, newPassword: "another one again", confirmNewPassword: "another one again" });
    expect(replay.headers.location).toBe("/forgot-password?ended=page");
    expect((await queryAudit(t.deps.db, { subject: "self.reset", event: "password.reset" }))).toHaveLength(1);
  });

  // Path=/ since it became __Host-famos_reset under HTTPS, which needs it (cookie-tossing.test: no sibling host plants one).
  it("ASVS 3.4.2 / 3.4.3 / 3.4.5: the browser's reset state is a signed cookie, HttpOnly, SameSite=Lax, Path=/, for the code's validity", async () => {
    const answer = await start(new FormClient(t.app), "cookie.shape");
    const cookies = answer.cookies as Array<{ name: string; value: string; httpOnly?: boolean; sameSite?: string; path?: string; maxAge?: number; secure?: boolean; domain?: string }>;
    const state = cookies.find((c) => c.name === "famos_reset");
    expect(state).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/", maxAge: t.config.otp.ttlMs / 1000 });
    expect(state?.secure).toBeFalsy();
    expect(state?.domain).toBeUndefined();
    // Signed (the value carries its MAC): a state the browser wrote itself is not read.
    expect(t.app.unsignCookie(state!.value).valid).toBe(true);
  });

  it("answers an unknown login ID with the same page and sends no mail", async () => {
    await addUser(t.deps, { loginId: "known.one", email: "known@dealer.example" });
    const known = new FormClient(t.app);
    const unknown = new FormClient(t.app);
    const before = t.smtp.messages.length;
    const outbox = async () => Number((await t.deps.db.selectFrom("outbox").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
    const queued = await outbox();
    const a = await start(known, "known.one");
    expect(await outbox()).toBe(queued + 1);
    const b = await start(unknown, "nobody.here");
    expect(await outbox()).toBe(queued + 1);
    expect(Object.keys(a.headers).sort()).toEqual(Object.keys(b.headers).sort());
    expect(strip((await known.get("/forgot-password/code")).body)).toBe(strip((await unknown.get("/forgot-password/code")).body));
    await nextCode(t.smtp, "known@dealer.example", before);
    const wrongKnown = await known.post("/forgot-password/code", { code: "000000", newPassword: "some long password", confirmNewPassword: "some long password" });
    const wrongUnknown = await unknown.post("/forgot-password/code", { code: "000000", newPassword: "some long password", confirmNewPassword: "some long password" });
    expect(wrongKnown.statusCode).toBe(wrongUnknown.statusCode);
    expect(strip(wrongKnown.body)).toBe(strip(wrongUnknown.body));
  });

  it("Send code with no login ID (empty or spaces) says to enter one, on the same form, and starts nothing", async () => {
    const client = new FormClient(t.app);
    await client.get("/forgot-password");
    for (const loginId of ["", "   "]) {
      const answer = await client.post("/forgot-password", { loginId });
      expect(answer.statusCode).toBe(400);
      expect(answer.body).toContain('role="alert" id="loginId-error">Enter your login ID.</div>');
      expect(answer.body).toMatch(/id="loginId"[^>]*autofocus aria-invalid="true" aria-describedby="loginId-error"/);
      expect(answer.headers["set-cookie"] ?? "").not.toContain("famos_reset");
    }
  });

  it("applies the hourly code cap, and a wrong-code lock of the reset's own that keeps the owner's sign-in open", async () => {
    const user = await addUser(t.deps, { loginId: "self.capped", email: "capped@dealer.example" });
    const before = t.smtp.messages.length;
    for (let i = 0; i < 5; i += 1) {
      await start(new FormClient(t.app), "self.capped");
      t.clock.advance(31_000);
    }
    await nextCode(t.smtp, "capped@dealer.example", before);
    const codes = await t.deps.db.selectFrom("codes").select("id").where("user_id", "=", user.id).execute();
    // The reset's share of FAMOS_OTP_PER_HOUR (3): half, rounded down (hourCap in src/otp/codes.ts).
    expect(codes).toHaveLength(1);

    const owner = await addUser(t.deps, { loginId: "self.locked", email: "locked@dealer.example" });
    const client = new FormClient(t.app, "192.0.2.55");
    await start(client, "self.locked");
    const form = { code: "111111", newPassword: "some long password", confirmNewPassword: "some long password" };
    for (let i = 0; i < 5; i += 1) expect((await client.post("/forgot-password/code", form)).statusCode).toBe(400);
    const locked = await client.post("/forgot-password/code", form);
    expect(locked.statusCode).toBe(429);
    // A stranger needs no password to post codes here: the lock is the reset's alone, and the owner
    // still signs in, even from a browser she never used (SPEC "Locks").
    const signIn = await submitPassword(new FormClient(t.app, "192.0.2.56"), "self.locked", owner.password);
    expect(signIn.headers.location).toBe("/otp");
    expect(await queryAudit(t.deps.db, { subject: "self.locked", event: "password.failed" })).toEqual([]);
  });

  // QA: the code page left open past its code's life (the reset's cookie lasts as long): Reset password
  // went back to the first step without a word, and the typed code and passwords were gone.
  it("the code page sent after its reset lapsed goes back to the first step saying the page was open too long", async () => {
    await addUser(t.deps, { loginId: "self.lapsed", email: "lapsed@dealer.example" });
    const client = new FormClient(t.app, "127.0.0.1", { "accept-language": "nl" });
    await start(client, "self.lapsed");
    await client.get("/forgot-password/code");
    client.cookies.delete("famos_reset");
    const late = await client.post("/forgot-password/code", { code: "123456", newPassword: "too late for this", confirmNewPassword: "too late for this" });
    expect([late.statusCode, late.headers.location]).toEqual([303, "/forgot-password?ended=page"]);
    const page = await client.get(String(late.headers.location));
    expect(page.body).toContain(translator("nl", "Europe/London").text("login.formExpired"));
    expect(page.body).toContain('action="/forgot-password"');
  });

  it("with FAMOS_PASSWORD_RESET=support the link says how to reach retail IT, and there is no reset by code", async () => {
    const s = await createTestApp();
    try {
      const client = new FormClient(s.app);
      expect((await client.get("/login")).body).toContain("Forgot password?");
      const page = await client.get("/forgot-password");
      expect(page.body).toContain("mailto:retailit@famos.test?subject=Password%20reset");
      // No reset by code: the path takes no POST (405 with Allow, b6773ec), and no mail leaves.
      const before = s.smtp.messages.length;
      const posted = await client.post("/forgot-password", { loginId: "x" });
      expect(posted.statusCode).toBe(405);
      expect(posted.headers.allow).not.toMatch(/POST/);
      expect(s.smtp.messages.length).toBe(before);
    } finally {
      await s.close();
    }
  });
});
