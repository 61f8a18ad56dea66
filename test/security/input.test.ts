import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userFieldProblem } from "../../src/users/fields.ts";
import { loadConfig } from "../../src/config/config.ts";
import { checkEmailEntry } from "../../src/enrolment/email-rules.ts";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { NO_ACCOUNT_PREFIX } from "../../src/users/login-digest.ts";
import { createTestApp, TEST_SECRET, type TestApp } from "../support/app.ts";
import { testLoginDigest } from "../support/login-counter.ts";
import { DIALECTS } from "../store/dialects.ts";
import { snapshot } from "./helpers.ts";
import { FormSurface } from "./surface.ts";

/** SPEC "Bad input"; ASVS 5.1.x (input validation), 5.2.3 (mail injection), 5.3.4 (parameterised queries). */
describe("input caps on every form", () => {
  let t: TestApp;
  let surface: FormSurface;
  beforeAll(async () => {
    // One "Later" on User profile, so the enrol step's Later form is on the page the surface reads.
    t = await createTestApp({ env: { FAMOS_LOCK_AFTER: "100000", FAMOS_2FA_GRACE_SIGNINS: "1" } });
    surface = await new FormSurface(t).discover();
  });
  afterAll(async () => t.close());

  it("reads the fields of every form handler from a page that shows its form (forms counted per route)", () => {
    const counts = Object.fromEntries(surface.routes.map((r) => [`${r.method} ${r.pattern}`, r.forms]));
    const unread = Object.entries(counts).filter(([, forms]) => forms === 0).map(([route]) => route);
    expect(unread, `routes with no form read: ${JSON.stringify(counts)}`).toEqual([]);
    for (const route of ["POST /profile/email/confirm", "POST /support/users/:id/reset/confirm", "POST /support/notices", "POST /support/notices/:id"]) {
      expect(counts[route], route).toBeGreaterThanOrEqual(1);
    }
    const fields = Object.fromEntries(surface.routes.map((r) => [r.pattern, r.fields]));
    expect(fields["/support/notices"]).toEqual(expect.arrayContaining(["title", "body"]));
    expect(fields["/support/notices/:id"]).toEqual(expect.arrayContaining(["title", "body"]));
    expect(fields["/support/users/:id/reset/confirm"]).toEqual(expect.arrayContaining(["name", "loginId", "partnerNumber", "ticket"]));
    expect(fields["/profile/email/confirm"]).toEqual(expect.arrayContaining(["code"]));
  });

  it("ASVS 5.1.3 / 5.1.4: every field of every form (enumerated) refuses an over-long value with 400 and stores nothing", async () => {
    const covered: string[] = [];
    // Longer than any field's cap (the longest, a notice's body, is 16,000), and short enough that the
    // whole form stays under the 16 KiB body limit, so it is the field's own cap that refuses it.
    const overLong = "7".repeat(16_001);
    // A ticket reference has no cap of the parser's but the body's (src/web/forms.ts ticketField): the
    // ticket's own rule refuses it with its reason, the request's other fields then the account's own,
    // so that it is that rule which refuses.
    const { target } = surface;
    const identity: Record<string, string> = { name: target.full_name, loginId: target.login_id, partnerNumber: target.partner_number };
    for (const route of surface.routes) {
      for (const field of route.fields) {
        await surface.client(route.stage);
        const before = await snapshot(t.deps.db);
        // Every other field of the form present, so the refusal can only be this field's cap.
        const others = Object.fromEntries(route.fields.map((f) => [f, field === "ticket" ? (identity[f] ?? "1") : "1"]));
        const response = await surface.post(route, { ...others, [field]: overLong });
        expect(response.statusCode, `${route.pattern} ${field}`).toBe(400);
        const reason = field === "ticket" ? /Enter the ticket reference of the request \(1 to 64 characters\)\./ : /The value of “[^”<]+” is too long|A value in this form is too long\./;
        expect(response.body, `${route.pattern} ${field}`).toMatch(reason);
        expect(await snapshot(t.deps.db), `${route.pattern} ${field}`).toEqual(before);
        covered.push(`${route.pattern} ${field}`);
      }
    }
    expect(covered).toEqual(expect.arrayContaining(["/login loginId", "/login password", "/enrol email", "/enrol confirmEmail", "/otp code"]));
    expect(covered).toEqual(expect.arrayContaining(["/support/users/:id/reset ticket", "/support/users/:id/temporary-password/confirm ticket", "/support/users/:id/factors/confirm ticket", "/support/users/:id/reset name"]));
  });

  it("ASVS 5.1.4: a NUL character in any field or in the address is refused with 400 (PostgreSQL cannot store it), storing nothing", async () => {
    for (const route of surface.routes.filter((r) => r.fields.length > 0)) {
      await surface.client(route.stage);
      const before = await snapshot(t.deps.db);
      const response = await surface.post(route, { [route.fields[0]!]: "a\u0000b" });
      expect(response.statusCode, route.pattern).toBe(400);
      expect(await snapshot(t.deps.db)).toEqual(before);
    }
    for (const url of ["/login?returnTo=%2F%00", "/notices/a%00b", "/login?x=%E0%A4%A"]) {
      expect((await t.app.inject({ method: "GET", url })).statusCode, url).toBe(400);
    }
  });

  it("ASVS 5.1.1: a repeated field (parameter pollution) or a field no form has is refused with 400 on every route, storing nothing", async () => {
    for (const route of surface.routes) {
      for (const body of [{ unexpected: "1" }, ...route.fields.map((f) => ({ [f]: ["1", "2"] }))]) {
        await surface.client(route.stage);
        const before = await snapshot(t.deps.db);
        const response = await surface.post(route, body);
        // A route about a thing that does not exist (a notice id that is a user's) may say 404 first.
        const expected = route.pattern.includes(":") && response.statusCode === 404 ? 404 : 400;
        expect(response.statusCode, `${route.pattern} ${JSON.stringify(body)}`).toBe(expected);
        expect(await snapshot(t.deps.db)).toEqual(before);
      }
    }
  });
});

describe("mail header injection (ASVS 5.2.3)", () => {
  let t: TestApp;
  let surface: FormSurface;
  beforeAll(async () => {
    t = await createTestApp();
    surface = await new FormSurface(t).discover();
  });
  afterAll(async () => t.close());

  const INJECTIONS = [
    "victim@dealer.example\r\nBcc: evil@evil.example",
    "victim@dealer.example\nBcc: evil@evil.example",
    "victim@dealer.example\rBcc: evil@evil.example",
    "victim@dealer.example\r\n\r\nInjected body",
    "evil@evil.example\r\nSubject: hello",
    "\"a\r\nb\"@dealer.example",
    "victim@dealer.example\u0085Bcc: evil@evil.example",
    "victim@dealer.example%0d%0aBcc:evil@evil.example",
  ];

  it("ASVS 5.2.3: CR/LF in every form field that becomes a mail recipient is refused with 400; no mail is queued or sent", async () => {
    // The fields whose value becomes a recipient: the enrolment address and the Profile's new address.
    const recipientFields = surface.routes.filter((r) => !r.pattern.endsWith("/cancel")).flatMap((r) => r.fields.filter((f) => /email/i.test(f)).map((f) => [r, f] as const));
    expect(recipientFields.map(([r, f]) => `${r.pattern} ${f}`)).toEqual(expect.arrayContaining(["/enrol email", "/enrol confirmEmail"]));
    const sentBefore = t.smtp.messages.length;
    for (const [route, field] of recipientFields) {
      const others = Object.fromEntries(route.fields.filter((f) => /email/i.test(f) && f !== field).map((f) => [f, "victim@dealer.example"]));
      for (const injection of INJECTIONS) {
        await surface.client(route.stage);
        const before = await t.deps.db.selectFrom("outbox").select("id").execute();
        const response = await surface.post(route, { ...others, [field]: injection, ...(route.fields.includes("password") ? { password: "x" } : {}) });
        // Early enrolment (issue 12) refuses the admin client (nothing to enrol) with 409 before reading the address.
        const refused = route.pattern === "/rollout/enrol" ? [400, 401, 409] : [400, 401];
        expect(refused, `${route.pattern} ${field} ${JSON.stringify(injection)}`).toContain(response.statusCode);
        expect(await t.deps.db.selectFrom("outbox").select("id").execute()).toEqual(before);
      }
    }
    const recipients = await t.deps.db.selectFrom("outbox").select(["recipient", "subject"]).execute();
    for (const r of recipients) expect(r.recipient + r.subject).not.toMatch(/[\r\n]/);
    expect(t.smtp.messages.slice(sentBefore).filter((m) => m.envelopeTo.some((to) => to.includes("evil")))).toEqual([]);
  });

  it("ASVS 5.2.3: the address rules (enrolment, Profile, `user add --email`, import) refuse CR, LF and other control characters", () => {
    const policy = { allowedDomains: [], sharedMailboxPolicy: "off" as const, sharedMailboxNames: [] };
    for (const injection of INJECTIONS) {
      expect(checkEmailEntry({ email: injection, confirmEmail: injection, ownMailbox: true }, policy).ok, JSON.stringify(injection)).toBe(false);
    }
  });

  it("ASVS 5.2.3: login IDs and names given on the command line or in an import refuse control characters (they are quoted in mails)", () => {
    expect(userFieldProblem({ loginId: "jane\r\nBcc:evil", fullName: "Jane", partnerNumber: "1" })).not.toBeNull();
    expect(userFieldProblem({ loginId: "jane", fullName: "Jane\r\nBcc: evil@evil.example", partnerNumber: "1" })).not.toBeNull();
    expect(userFieldProblem({ loginId: "jane", fullName: "Jane Smith", partnerNumber: "1\n2" })).not.toBeNull();
  });

  it("ASVS 5.2.3: the outbox itself refuses a recipient or subject with CR or LF (the last line of defence)", async () => {
    for (const [recipient, subject] of [["a@b.example\r\nBcc: c@d.example", "s"], ["a@b.example", "s\r\nBcc: c@d.example"], ["a@b.example\n", "s"]]) {
      await expect(
        enqueueMail(t.deps.db, 0, cryptoRandom, "famos.test", { userId: null, kind: "test", recipient: recipient!, subject: subject!, text: "t", html: "h" }),
      ).rejects.toThrow(/CR or LF/);
    }
  });

  it("ASVS 5.2.3: a FAMOS_MAIL_FROM that is not one mailbox is refused at start, with what it must look like", () => {
    for (const from of ["FAMOS <a@b.example> <c@d.example>", "a@b.example, c@d.example", "FAMOS, Dealer IT <a@b.example>", "FAMOS <a@b.example", "FAMOS <>", "FAMOS"]) {
      const result = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_MAIL_FROM: from });
      expect(result.ok, from).toBe(false);
      if (!result.ok) expect(result.errors, from).toContainEqual(expect.stringMatching(/^FAMOS_MAIL_FROM: must be one mailbox, such as no-reply@dealer\.example or FAMOS <no-reply@dealer\.example>/));
    }
    for (const from of ["a@b.example", "FAMOS <a@b.example>", '"FAMOS, Dealer IT" <a@b.example>', "Concessionnaire Évry <a@b.example>"]) {
      const result = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_MAIL_FROM: from });
      expect(result.ok, from).toBe(true);
      if (result.ok) expect(result.config.mailFromAddress).toBe("a@b.example");
    }
  });

  it("ASVS 5.2.3: FAMOS_MAIL_FROM and FAMOS_SUPPORT_EMAIL with a line break are refused at start", () => {
    const result = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_MAIL_FROM: "FAMOS <a@b.example>\r\nBcc: c@d.example", FAMOS_SUPPORT_EMAIL: "it@b.example\nBcc: c@d.example" });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.some((e) => e.startsWith("FAMOS_MAIL_FROM"))).toBe(true);
      expect(result.errors.some((e) => e.startsWith("FAMOS_SUPPORT_EMAIL"))).toBe(true);
    }
  });
});

const HOSTILE = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "admin'--",
  "\"; DROP TABLE users; --",
  "'; DELETE FROM sessions; --",
  "1; UPDATE users SET role='admin'",
  "') UNION SELECT password_hash, login_id FROM users --",
  "%' OR login_key LIKE '%",
  "\\'; SELECT pg_sleep(5); --",
  "$1 $2 ?::text",
  "' || (SELECT sqlite_version()) || '",
  "\u0000' OR ''='",
];

describe.each(DIALECTS)("SQL injection (%s)", (database) => {
  let t: TestApp;
  let surface: FormSurface;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_LOCK_AFTER: "100000", FAMOS_OTP_PER_HOUR: "0" } });
    surface = await new FormSurface(t).discover();
  });
  afterAll(async () => t.close());

  // Hundreds of argon2 verifications and counted attempts: a busy 2-core machine needs more than the default 30 s.
  it("ASVS 5.3.4: hostile strings in every field of every form, in route parameters and in query strings change nothing and crash nothing", async () => {
    const users = (await t.deps.db.selectFrom("users").select(["id", "login_key", "role", "password_hash", "otp_email"]).orderBy("id").execute()).filter(
      (u) => !surface.choosingPassword.has(u.id),
    );
    let requests = 0;
    for (const route of surface.routes) {
      // A form without fields sends the same empty body whatever the hostile string: posted once (a
      // Cancel posted twelve times only signed its client in again eleven times).
      if (route.fields.length === 0) {
        const response = await surface.post(route, {});
        expect(response.statusCode, `${route.pattern} (no fields)`).toBeLessThan(500);
      }
      for (const hostile of HOSTILE) {
        if (route.fields.length > 0) {
          const body = Object.fromEntries(route.fields.map((f) => [f, hostile]));
          const response = await surface.post(route, body);
          expect(response.statusCode, `${route.pattern} ${JSON.stringify(hostile)}`).toBeLessThan(500);
          requests += 1;
        }
        if (route.pattern.includes(":")) {
          const param = await surface.post(route, {}, hostile);
          expect(param.statusCode, `${route.pattern} param ${JSON.stringify(hostile)}`).toBeLessThan(500);
          requests += 1;
        }
      }
    }
    const admin = await surface.client("full");
    for (const hostile of HOSTILE) {
      for (const url of [`/login?returnTo=${encodeURIComponent(hostile)}`, `/support?q=${encodeURIComponent(hostile)}`, `/support/users/${encodeURIComponent(hostile)}`, `/notices/${encodeURIComponent(hostile)}`, `/support/audit?user=${encodeURIComponent(hostile)}&event=${encodeURIComponent(hostile)}`]) {
        const response = await admin.get(url);
        expect(response.statusCode, `${url}`).toBeLessThan(500);
      }
    }
    expect(requests).toBeGreaterThan(50);
    // Nothing was read out, rewritten or dropped: every account is as it was (new ones from sign-ins aside).
    const after = await t.deps.db.selectFrom("users").select(["id", "login_key", "role", "password_hash", "otp_email"]).where("id", "in", users.map((u) => u.id)).orderBy("id").execute();
    expect(after).toEqual(users);
    // The hostile login IDs were each counted and audited as a login ID no account has: the trail keeps
    // the keyed digest of the normalised login key (src/users/login-digest.ts), never the text as typed
    // (ASVS 7.1.1: now and then it is a password), so no hostile string is in a subject or a detail.
    const audited = await t.deps.db.selectFrom("audit").select(["subject", "detail"]).where("event", "=", "password.failed").execute();
    // (NUL is refused before anything runs: see input-guard.ts.)
    for (const hostile of HOSTILE.filter((h) => !h.includes("\u0000"))) {
      expect(audited.map((a) => a.subject)).toContain(`${NO_ACCOUNT_PREFIX}${testLoginDigest(hostile)}`);
      expect(audited.filter((a) => a.subject === hostile.slice(0, 128) || a.detail.includes(JSON.stringify(hostile.slice(0, 128))))).toEqual([]);
    }
  }, 180_000); // every form of the app with every hostile string: minutes on a busy machine
});

describe("queries are parameterised (ASVS 5.3.4)", () => {
  it("ASVS 5.3.4: no source file builds SQL from strings (no sql.raw or sql.lit, no interpolated query text)", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith(".ts")) files.push(path);
      }
    };
    walk("src");
    const offences: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const [i, line] of text.split("\n").entries()) {
        if (/sql\.(raw|lit)\s*\(/.test(line) || /\.query\(\s*`[^`]*\$\{/.test(line) || /\.(executeQuery|raw)\(\s*`/.test(line)) {
          offences.push(`${file}:${i + 1}: ${line.trim()}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });
});
