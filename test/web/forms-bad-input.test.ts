import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

/**
 * Bad input on every form that exists (SPEC "Bad input"): a clear message, a 4xx status, nothing
 * stored, never a 5xx. "Nothing stored" is checked as the row counts of the tables a form could
 * add to; refused sign-ins still write their audit event and failure count, by design.
 */
describe("bad input on the sign-in forms", () => {
  let t: TestApp;
  let address = 0;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const TABLES = ["users", "flows", "codes", "outbox", "sessions"] as const;
  async function counts(): Promise<Record<string, number>> {
    const entries = await Promise.all(
      TABLES.map(async (table) => [table, Number((await t.deps.db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n)] as const),
    );
    return Object.fromEntries(entries);
  }

  /** A fresh client on its own address (the address locks of one case stay out of the next). */
  function client(): FormClient {
    address += 1;
    return new FormClient(t.app, `10.0.9.${address}`);
  }
  async function atStep(step: "login" | "enrol" | "otp" | "full"): Promise<FormClient> {
    const c = client();
    if (step === "login") {
      await c.get("/login");
      return c;
    }
    const user = await addUser(t.deps, { email: step === "enrol" ? null : `bad-input-${address}@dealer.example` });
    await submitPassword(c, user.login_id, user.password);
    if (step === "full") {
      const code = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(user.otp_email!));
      await c.get("/otp");
      await c.post("/otp", { code: /\b(\d{6})\b/.exec(code.text)![1]! });
      await c.get("/");
      return c;
    }
    await c.get(`/${step}`);
    return c;
  }

  /** Sends a raw body with the client's cookies (and its CSRF token, unless the body has its own). */
  function raw(c: FormClient, url: string, payload: string, contentType = "application/x-www-form-urlencoded", method: "POST" | "PUT" = "POST") {
    return t.app.inject({ method, url, payload, headers: { cookie: c.cookieHeader(), "content-type": contentType, "user-agent": "famos-test" }, remoteAddress: c.ip });
  }
  const withCsrf = (c: FormClient, body: string) => `${body}${body ? "&" : ""}_csrf=${encodeURIComponent(c.csrf!)}`;

  async function expectRefused(send: () => Promise<LightMyRequestResponse>, message: string | RegExp, status?: number): Promise<LightMyRequestResponse> {
    const before = await counts();
    const response = await send();
    expect(response.statusCode, response.body.slice(0, 300)).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    if (status !== undefined) expect(response.statusCode).toBe(status);
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    expect(response.body).toMatch(typeof message === "string" ? new RegExp(escape(message)) : message);
    expect(await counts()).toEqual(before);
    return response;
  }
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  const LOGIN_REFUSED = "The login ID or password is not right";
  const UNKNOWN_FIELDS = "The form contained fields FAMOS does not expect.";
  const NOT_TEXT = /The field “[\w ]+” is missing or not text\./;
  const TOO_LONG = /The value of “[\w ]+” is too long\./;
  const FOREIGN = /FAMOS accepts forms sent by its own pages only\./;

  describe("/login", () => {
    it("refuses empty, 300-character, CR/LF and unknown values with the sign-in answer", async () => {
      for (const fields of [
        { loginId: "", password: "" },
        { loginId: "x".repeat(300), password: "y".repeat(300) },
        { loginId: "alice\r\nSet-Cookie: x=y", password: "p\r\nq" },
        { loginId: "nobody", password: "" },
      ]) {
        const c = await atStep("login");
        const response = await expectRefused(() => c.post("/login", fields), LOGIN_REFUSED, 401);
        expect(response.headers["set-cookie"]?.toString() ?? "").not.toContain("x=y");
      }
    });

    it("refuses 5000 characters, unknown fields, repeated fields, JSON and other content types", async () => {
      const c = await atStep("login");
      await expectRefused(() => c.post("/login", { loginId: "x".repeat(5000), password: "p" }), TOO_LONG, 400);
      await expectRefused(() => c.post("/login", { loginId: "a", password: "p", admin: "1" }), UNKNOWN_FIELDS, 400);
      await expectRefused(() => raw(c, "/login", withCsrf(c, "loginId=a&loginId=b&password=p")), NOT_TEXT, 400);
      await expectRefused(() => raw(c, "/login", JSON.stringify({ loginId: "a", password: "p", _csrf: c.csrf }), "application/json"), FOREIGN, 415);
      await expectRefused(() => raw(c, "/login", "{not json", "application/json"), FOREIGN, 415);
      await expectRefused(() => raw(c, "/login", "loginId=a&password=p", "text/plain"), FOREIGN, 415);
      await expectRefused(() => raw(c, "/login", "--x\r\nContent-Disposition: form-data; name=\"loginId\"\r\n\r\na\r\n--x--", "multipart/form-data; boundary=x"), FOREIGN, 415);
      await expectRefused(() => raw(c, "/login", withCsrf(c, "loginId=%zz%&password=%E0%A4%A")), LOGIN_REFUSED, 401);
      await expectRefused(
        () => t.app.inject({ method: "POST", url: "/login", payload: withCsrf(c, "loginId=a&password=p"), headers: { cookie: c.cookieHeader() }, remoteAddress: c.ip }),
        FOREIGN,
        415,
      );
    });

    it("refuses a form without its CSRF token, or with two", async () => {
      const c = await atStep("login");
      await expectRefused(() => c.post("/login", { loginId: "a", password: "p" }, { csrf: false }), "This form has expired or did not come from FAMOS", 403);
      await expectRefused(() => raw(c, "/login", `loginId=a&password=p&_csrf=${c.csrf}&_csrf=${c.csrf}`), "This form has expired or did not come from FAMOS", 403);
    });

    it("refuses a body over the size limit", async () => {
      const c = await atStep("login");
      await expectRefused(() => raw(c, "/login", withCsrf(c, `loginId=a&password=${"p".repeat(20_000)}`)), "The form sent more data than FAMOS accepts.", 413);
    });
  });

  describe("/enrol", () => {
    it("refuses empty, mismatched, 300-character, CR/LF and 5000-character addresses, storing nothing", async () => {
      const c = await atStep("enrol");
      await expectRefused(() => c.post("/enrol", { email: "", confirmEmail: "" }), "Enter the email address that will receive your codes.", 400);
      await expectRefused(() => c.post("/enrol", { email: "a@dealer.example", confirmEmail: "b@dealer.example" }), "The two email addresses do not match.", 400);
      const long = `${"a".repeat(290)}@dealer.example`;
      await expectRefused(() => c.post("/enrol", { email: long, confirmEmail: long }), "An email address can be at most 254 characters long.", 400);
      const injected = "a@dealer.example\r\nBcc: victim@evil.example";
      await expectRefused(() => c.post("/enrol", { email: injected, confirmEmail: injected }), "Enter a valid email address", 400);
      await expectRefused(() => c.post("/enrol", { email: "x".repeat(5000), confirmEmail: "x" }), TOO_LONG, 400);
      await expectRefused(() => c.post("/enrol", { email: "1234567890", confirmEmail: "1234567890" }), "Enter a valid email address", 400);
    });

    it("refuses unknown fields, repeated fields, a bad tick value, JSON and other content types", async () => {
      const c = await atStep("enrol");
      await expectRefused(() => c.post("/enrol", { email: "a@dealer.example", confirmEmail: "a@dealer.example", role: "admin" }), UNKNOWN_FIELDS, 400);
      await expectRefused(() => raw(c, "/enrol", withCsrf(c, "email=a@dealer.example&email=b@dealer.example&confirmEmail=a@dealer.example")), NOT_TEXT, 400);
      await expectRefused(() => c.post("/enrol", { email: "info@dealer.example", confirmEmail: "info@dealer.example", ownMailbox: "on" }), NOT_TEXT, 400);
      await expectRefused(() => raw(c, "/enrol", JSON.stringify({ email: "a@dealer.example", confirmEmail: "a@dealer.example", _csrf: c.csrf }), "application/json"), FOREIGN, 415);
      await expectRefused(() => raw(c, "/enrol", "email=a@dealer.example", "text/plain"), FOREIGN, 415);
    });

    it("refuses unknown fields on Cancel and leaves the session alone", async () => {
      const c = await atStep("enrol");
      await expectRefused(() => c.post("/enrol/cancel", { admin: "1" }), UNKNOWN_FIELDS, 400);
      expect((await c.get("/enrol")).statusCode).toBe(200);
      // The page's own Cancel button sends the address fields along: that works.
      expect((await c.post("/enrol/cancel", { email: "half typed", confirmEmail: "" })).headers.location).toBe("/login?cancelled=1");
    });
  });

  describe("/otp, /otp/regenerate and /otp/cancel", () => {
    it("refuses empty, non-digit, 300 and 5000 character codes without using a try", async () => {
      const c = await atStep("otp");
      for (const code of ["", "abcdef", "12345", "1234567", "１２３４５６", "<script>"]) {
        await expectRefused(() => c.post("/otp", { code }), "Enter the 6-digit code from the email.", 400);
      }
      await expectRefused(() => c.post("/otp", { code: "12345\u0000" }), "The request contained a character FAMOS does not accept.", 400);
      await expectRefused(() => c.post("/otp", { code: "1".repeat(300) }), TOO_LONG, 400);
      await expectRefused(() => c.post("/otp", { code: "1".repeat(5000) }), TOO_LONG, 400);
      const code = await t.deps.db.selectFrom("codes").select("tries").orderBy("created_at", "desc").executeTakeFirstOrThrow();
      expect(code.tries).toBe(0);
    });

    it("counts a code split by CR/LF as what it is: six digits, checked as a try", async () => {
      const c = await atStep("otp");
      const response = await expectRefused(() => c.post("/otp", { code: "000\r\n000" }), /That code is not right|That is an earlier code/, 401);
      expect(response.body).toContain("4 tries left");
    });

    it("refuses unknown fields, repeated fields, JSON and other content types on all three", async () => {
      const c = await atStep("otp");
      for (const url of ["/otp", "/otp/regenerate", "/otp/cancel"]) {
        await expectRefused(() => c.post(url, { code: "123456", extra: "1" }), UNKNOWN_FIELDS, 400);
        await expectRefused(() => raw(c, url, withCsrf(c, "code=123456&code=654321")), NOT_TEXT, 400);
        await expectRefused(() => raw(c, url, JSON.stringify({ code: "123456", _csrf: c.csrf }), "application/json"), FOREIGN, 415);
        await expectRefused(() => raw(c, url, "code=123456", "text/plain"), FOREIGN, 415);
        await expectRefused(() => c.post(url, { code: "9".repeat(5000) }), TOO_LONG, 400);
      }
      // Still at OTP capture: nothing above cancelled or regenerated anything.
      expect((await c.get("/otp")).statusCode).toBe(200);
      const codes = await t.deps.db.selectFrom("codes").select(["void_reason"]).orderBy("created_at", "desc").limit(1).execute();
      expect(codes[0]?.void_reason).toBeNull();
    });
  });

  describe("/logout", () => {
    it("refuses unknown fields, JSON and other content types, and stays signed in", async () => {
      const c = await atStep("full");
      await expectRefused(() => c.post("/logout", { everywhere: "1" }), UNKNOWN_FIELDS, 400);
      await expectRefused(() => raw(c, "/logout", JSON.stringify({ _csrf: c.csrf }), "application/json"), FOREIGN, 415);
      await expectRefused(() => raw(c, "/logout", "x", "text/plain"), FOREIGN, 415);
      await expectRefused(() => c.post("/logout", {}, { csrf: false }), "This form has expired or did not come from FAMOS", 403);
      expect((await c.get("/profile")).statusCode).toBe(200);
    });
  });

  describe("unknown routes, methods and cookies", () => {
    it("answers unknown routes with a 404 page and a method a known route does not take with a 405 page naming those it does (RFC 9110 15.5.6), never a 5xx", async () => {
      const c = await atStep("login");
      for (const [method, url] of [
        ["GET", "/nope"],
        ["GET", "/otp/../../etc/passwd"],
        ["GET", `/${"x".repeat(5000)}`],
      ] as const) {
        const response = await expectRefused(() => t.app.inject({ method, url, headers: { cookie: c.cookieHeader() } }), "There is no page at this address");
        expect(response.statusCode).toBe(404);
        expect(response.headers.allow).toBeUndefined();
      }
      for (const [method, url, allow] of [
        ["PUT", "/login", "GET, HEAD, POST"],
        ["DELETE", "/otp", "GET, HEAD, POST"],
        ["PATCH", "/enrol", "GET, HEAD, POST"],
        ["OPTIONS", "/login", "GET, HEAD, POST"],
        ["GET", "/logout", "POST"],
        ["GET", "/otp/regenerate", "POST"],
      ] as const) {
        const response = await expectRefused(() => t.app.inject({ method, url, headers: { cookie: c.cookieHeader() } }), "This address does not take that kind of request");
        expect(response.statusCode, `${method} ${url}`).toBe(405);
        expect(response.headers.allow, `${method} ${url}`).toBe(allow);
      }
      await expectRefused(() => t.app.inject({ method: "GET", url: "/%00" }), "The request contained a character FAMOS does not accept.", 400);
      // A malformed percent-escape is refused by Fastify's router before any hook, with the same page.
      await expectRefused(() => t.app.inject({ method: "GET", url: "/%zz" }), "That address is not a valid FAMOS address.", 400);
      const posted = await expectRefused(() => raw(c, "/nope", withCsrf(c, "a=1")), "There is no page at this address");
      expect(posted.statusCode).toBe(404);
    });

    it("treats a forged, huge or malformed session cookie as no session", async () => {
      for (const value of ["x", "A".repeat(4000), "%zz", "a;b", "\u00e9"]) {
        const response = await t.app.inject({ method: "GET", url: "/profile", headers: { cookie: `famos_session=${encodeURIComponent(value)}` } });
        expect(response.statusCode).toBe(303);
        expect(response.headers.location).toMatch(/^\/login/);
      }
    });

    it("ignores odd query strings on the pages", async () => {
      const c = await atStep("otp");
      for (const query of ["?notice=wait&at=99999999999999999999", "?notice=hour-cap&at=-1", "?notice[]=x", "?notice=wait&notice=sent", `?notice=${"x".repeat(3000)}`]) {
        const response = await c.get(`/otp${query}`);
        expect(response.statusCode, query).toBe(200);
      }
      for (const query of [`?returnTo=${"x".repeat(3000)}`, "?returnTo=//evil.example", "?returnTo=https://evil.example/", "?returnTo=a&returnTo=b"]) {
        const response = await t.app.inject({ method: "GET", url: `/login${query}` });
        expect(response.statusCode, query).toBe(200);
        expect(response.body).not.toContain("evil.example");
      }
    });
  });
});
