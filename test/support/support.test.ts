import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import nodemailer from "nodemailer";
import pg from "pg";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkAccessibility, formatViolations, launchBrowser } from "./browser.ts";
import { freePort, startNginx } from "./nginx.ts";
import { postgresTestUrl, redisTestUrl } from "./services.ts";
import { extractCode, startSmtpServer, type TestSmtpServer } from "./smtp.ts";

describe("test SMTP server", () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await smtp.stop();
  });

  it("receives a mail sent with nodemailer and parses it back", async () => {
    const transport = nodemailer.createTransport(smtp.url);
    const waiting = smtp.waitForMessage((mail) => mail.envelopeTo.includes("ann@dealer.example"));
    await transport.sendMail({
      from: '"FAMOS" <no-reply@famos.example>',
      to: "Ann <ann@dealer.example>",
      subject: "Your FAMOS one time passcode",
      text: "Your code is 042917. It is valid for 15 minutes.",
      html: "<p>Your code is <b>042917</b>.</p>",
    });
    const mail = await waiting;
    expect(mail.subject).toBe("Your FAMOS one time passcode");
    expect(mail.from).toBe('"FAMOS" <no-reply@famos.example>');
    expect(mail.to).toBe('"Ann" <ann@dealer.example>');
    expect(mail.envelopeFrom).toBe("no-reply@famos.example");
    expect(extractCode(mail.text)).toBe("042917");
    expect(mail.html).toContain("<b>042917</b>");
    expect(mail.messageId).toMatch(/^<.+@.+>$/);
    expect(mail.headers.get("subject")).toBe("Your FAMOS one time passcode");
    expect(mail.raw).toContain("Subject: Your FAMOS one time passcode");
    expect(smtp.messages).toHaveLength(1);
    // An already-received message is found at once.
    await expect(smtp.waitForMessage()).resolves.toBe(mail);
    transport.close();
  });

  it("accepts (any) credentials", async () => {
    const transport = nodemailer.createTransport(`smtp://famos:secret@127.0.0.1:${smtp.port}?ignoreTLS=true`);
    await transport.sendMail({ from: "a@famos.example", to: "b@dealer.example", subject: "auth", text: "x" });
    const mail = await smtp.waitForMessage((m) => m.subject === "auth");
    expect(mail.authUser).toBe("famos");
    transport.close();
  });

  it("waitForMessage rejects clearly after its timeout", async () => {
    smtp.clear();
    expect(smtp.messages).toHaveLength(0);
    await expect(smtp.waitForMessage(() => true, 100)).rejects.toThrow(/no matching message arrived within 100 ms/);
  });

  it("simulates an outage with 451 and recovers", async () => {
    const transport = nodemailer.createTransport(smtp.url);
    smtp.refuse(true);
    await expect(
      transport.sendMail({ from: "a@famos.example", to: "b@dealer.example", subject: "s", text: "t" }),
    ).rejects.toMatchObject({ responseCode: 451 });
    smtp.refuse(false);
    await transport.sendMail({ from: "a@famos.example", to: "b@dealer.example", subject: "after", text: "t" });
    expect((await smtp.waitForMessage((m) => m.subject === "after")).envelopeTo).toEqual(["b@dealer.example"]);
    transport.close();
  });

  it("extractCode finds the first 6-digit number only", () => {
    expect(extractCode("login 1234567 then code 000123 or 654321")).toBe("000123");
    expect(() => extractCode("no code 12345")).toThrow(/no 6-digit code/);
  });
});

describe("Chromium and axe-core", () => {
  let browser: Browser;
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    // A page under the same strict CSP as the app's (no inline or injected scripts).
    server = createServer((_request, response) => {
      response.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'",
      });
      response.end(
        '<!doctype html><html lang="en"><head><title>Sign in</title></head><body><main><h1>Sign in</h1>' +
          '<form method="post"><label for="id">Login ID</label><input id="id" name="loginId">' +
          '<input name="password" type="password"><button type="submit">Log in</button></form></main></body></html>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("opens a data: page and finds no violations on an accessible one", async () => {
    const page = await browser.newPage();
    await page.goto(
      "data:text/html," +
        encodeURIComponent(
          '<!doctype html><html lang="en"><head><title>ok</title></head><body><main><h1>Hello</h1>' +
            '<label for="e">Email address</label><input id="e" type="email"><button>Update</button></main></body></html>',
        ),
    );
    expect(await page.textContent("h1")).toBe("Hello");
    const violations = await checkAccessibility(page);
    expect(violations, formatViolations(violations)).toEqual([]);
    await page.close();
  });

  it("reports serious violations on a page with a strict CSP", async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    const response = await page.goto(`${origin}/`);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    // The CSP really is in force: a script tag with inline content is refused by the page...
    await expect(page.addScriptTag({ content: "window.injected = true" })).rejects.toThrow();
    expect(await page.evaluate(() => (globalThis as { injected?: boolean }).injected ?? false)).toBe(false);
    // ...but axe still runs, and finds the unlabelled password field.
    const violations = await checkAccessibility(page);
    expect(violations.map((v) => v.id)).toContain("label");
    const label = violations.find((v) => v.id === "label");
    expect(label?.impact).toMatch(/serious|critical/);
    expect(label?.nodes.map((n) => n.target)).toEqual(['input[name="password"]']);
    expect(formatViolations(violations)).toContain('input[name="password"]');
    // A second check on the same page reuses the injected axe.
    expect((await checkAccessibility(page, { disableRules: ["label"] })).map((v) => v.id)).not.toContain("label");
    await page.close();
  });
});

describe("PostgreSQL and Redis", () => {
  it("creates and drops a private PostgreSQL schema", async () => {
    const a = await postgresTestUrl("Support Test!");
    const b = await postgresTestUrl("support");
    expect(a.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:5432\/test\?schema=support_test_\d+_[0-9a-f]{8}$/);
    expect(a.schema).not.toBe(b.schema);
    const client = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/test" });
    await client.connect();
    try {
      await client.query(`CREATE TABLE "${a.schema}".t (x int)`);
      const exists = async (schema: string) =>
        (await client.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema])).rowCount;
      expect(await exists(a.schema)).toBe(1);
      await a.drop();
      await a.drop();
      expect(await exists(a.schema)).toBe(0);
      await b.drop();
      expect(await exists(b.schema)).toBe(0);
    } finally {
      await client.end();
    }
  });

  it("hands out an empty Redis database of this process's own", async () => {
    const url = await redisTestUrl();
    expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:6379\/([1-9]|1[0-5])$/);
    expect(await redisTestUrl()).toBe(url);
    const redis = new Redis(url);
    try {
      expect(await redis.dbsize()).toBe(0);
      await redis.set("famos:probe", "1");
      expect(await redis.get("famos:probe")).toBe("1");
      await redis.del("famos:probe");
    } finally {
      redis.disconnect();
    }
  });
});

describe("nginx", () => {
  it("serves a return 200 server and stops", async () => {
    const port = await freePort();
    const nginx = await startNginx({
      httpConfig: `server {
        listen 127.0.0.1:${port};
        location / { default_type text/plain; return 200 "ok"; }
      }`,
    });
    try {
      expect(nginx.port).toBe(port);
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("ok");
    } finally {
      await nginx.stop();
    }
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    await nginx.stop();
  });

  it("fails loudly on a broken configuration", async () => {
    await expect(startNginx({ httpConfig: "server { listen 127.0.0.1:1; bogus_directive on; }" })).rejects.toThrow(
      /nginx exited during start-up[\s\S]*bogus_directive/,
    );
  });
});
