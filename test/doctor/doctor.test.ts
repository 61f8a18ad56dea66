import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliResult, type CliWorkspace } from "../cli/run-famos.ts";
import { freePort } from "../support/nginx.ts";
import { withSilentServer } from "../support/silent-server.ts";
import { postgresTestUrl, REDIS_TEST_HOST, REDIS_TEST_PORT, type PostgresTestSchema } from "../support/services.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";

/** `famos doctor` as an operator runs it, against real PostgreSQL, Redis and an SMTP server with AUTH. */
describe("famos doctor", () => {
  let smtp: TestSmtpServer;
  let migrated: PostgresTestSchema;
  let unmigrated: PostgresTestSchema;
  let cli: CliWorkspace;
  const smtpUrl = (password: string) => `smtp://famos:${password}@127.0.0.1:${smtp.port}?ignoreTLS=true`;
  const production = (extra: Record<string, string> = {}) => ({
    NODE_ENV: "production",
    FAMOS_DATABASE_URL: migrated.url,
    FAMOS_SMTP_URL: smtpUrl("right horse battery"),
    FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
    FAMOS_SUPPORT_EMAIL: "retailit@famos.test",
    FAMOS_PUBLIC_URL: "https://famos.dealer.example",
    FAMOS_REDIS_URL: `redis://${REDIS_TEST_HOST}:${REDIS_TEST_PORT}`,
    ...extra,
  });
  // A real `famos doctor` process for the exit codes as the shell sees them (all passed: 0; a check
  // failed: 1); every other run is the same command through main() in this process (cli.inProcess),
  // its table, exit code and mail checked as before.
  const doctorProcess = (env: Record<string, string>, args: string[] = []) => cli.run(["doctor", ...args], { env });
  const doctor = (env: Record<string, string>, args: string[] = []) => cli.inProcess(["doctor", ...args], { env });
  const row = (result: CliResult, check: string) => result.stdout.split("\n").filter((line) => line.startsWith(`${check} `));

  beforeAll(async () => {
    smtp = await startSmtpServer({ users: { famos: "right horse battery" } });
    [migrated, unmigrated] = await Promise.all([postgresTestUrl("doctor_ok"), postgresTestUrl("doctor_unmigrated")]);
    cli = cliWorkspace();
    const migration = await cli.inProcess(["migrate"], { env: production() });
    expect(migration.code, migration.stderr).toBe(0);
  });
  afterAll(async () => {
    cli?.remove();
    await smtp?.stop();
    await migrated?.drop();
    await unmigrated?.drop();
  });

  it("passes every check of a good production setup and exits 0", async () => {
    const result = await doctorProcess(production());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^CHECK\s+RESULT\s+DETAIL$/m);
    expect(row(result, "database")[0]).toMatch(/OK\s+postgres reachable; the server's statements are bounded at 5 seconds \(FAMOS_DATABASE_TIMEOUT\)/);
    expect(row(result, "migrations")[0]).toMatch(/OK\s+all applied/);
    expect(row(result, "clock")[0]).toMatch(/OK\s+database clock (ahead|behind) by \d+ ms/);
    expect(row(result, "smtp")[0]).toMatch(/OK\s+connected, no TLS, authenticated/);
    expect(row(result, "redis")[0]).toMatch(/OK\s+PING answered/);
    expect(row(result, "public URL")[0]).toMatch(/OK\s+https:\/\/famos.dealer.example: Secure cookies/);
    expect(result.stdout).toContain("All checks passed.");
  });

  it("with --send-to sends a real test message through the SMTP server", async () => {
    const result = await doctor(production(), ["--send-to", "operator@dealer.example"]);
    expect(result.code, result.stdout).toBe(0);
    expect(row(result, "smtp")[0]).toContain("test message accepted for operator@dealer.example");
    const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes("operator@dealer.example"));
    expect(mail).toMatchObject({ subject: "FAMOS test message", authUser: "famos" });
  });

  it("--send-to writes the test message in FAMOS_DEFAULT_LOCALE, as other mail to someone with no saved language: subject, text, HTML lang and Content-Language", async () => {
    const cases = [
      ["de", "FAMOS-Testnachricht", "Diese Nachricht wurde von famos doctor --send-to gesendet"],
      ["fr", "Message de test FAMOS", "Ce message a été envoyé par famos doctor --send-to"],
      ["en-GB", "FAMOS test message", "This message was sent by famos doctor --send-to"],
    ] as const;
    for (const [locale, subject, text] of cases) {
      const to = `operator.${locale}@dealer.example`;
      const result = await doctor(production({ FAMOS_DEFAULT_LOCALE: locale }), ["--send-to", to]);
      expect(result.code, result.stdout).toBe(0);
      const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes(to));
      expect([mail.subject, mail.text.slice(0, text.length), mail.headers.get("content-language")], locale).toEqual([subject, text, locale]);
      expect(mail.html, locale).toContain(`<html lang="${locale}">`);
    }
  });

  it("fails naming SMTP authentication when the password is wrong, and exits 1", async () => {
    const result = await doctorProcess(production({ FAMOS_SMTP_URL: smtpUrl("wrong password") }));
    expect(result.code).toBe(1);
    expect(row(result, "smtp")[0]).toMatch(/FAIL\s+auth failed: 535 5.7.8 Authentication credentials invalid/);
    expect(result.stdout).not.toContain("wrong password");
    expect(result.stdout).toContain("1 check failed.");
  });

  it("with --send-to, says what to fix when the relay refuses FAMOS's sender at MAIL FROM or to relay at RCPT TO, not only the relay's words", async () => {
    smtp.refuseSender(true, 553, "5.7.1 Sender address rejected: not owned by user");
    try {
      const result = await doctor(production(), ["--send-to", "operator@dealer.example"]);
      expect(result.code).toBe(1);
      expect(row(result, "smtp")[0]).toMatch(/FAIL\s+send failed: 553 5.7.1 Sender address rejected: not owned by user: the mail relay refuses FAMOS's sender \(check that the relay lets FAMOS send from FAMOS_MAIL_FROM's address \(and FAMOS_BOUNCE_DOMAIN's, if set\)\)$/);
    } finally {
      smtp.refuseSender(false);
    }
    smtp.rejectPermanently(true, 554, "5.7.1 Relay access denied");
    try {
      const result = await doctor(production(), ["--send-to", "operator@elsewhere.example"]);
      expect(result.code).toBe(1);
      expect(row(result, "smtp")[0]).toMatch(/FAIL\s+send failed: .*554 5.7.1 Relay access denied: the mail relay will not relay FAMOS's mail to that address \(check that the relay lets FAMOS relay mail to other domains: its relaying permission for FAMOS's login or address\)$/);
    } finally {
      smtp.rejectPermanently(false);
    }
  });

  it("fails naming SMTP when nothing listens on its port, and exits 1", async () => {
    const port = await freePort();
    const result = await doctor(production({ FAMOS_SMTP_URL: `smtp://127.0.0.1:${port}` }));
    expect(result.code).toBe(1);
    expect(row(result, "smtp")[0]).toMatch(/FAIL\s+connect failed: .*ECONNREFUSED/);
  });

  it("fails naming Redis when it does not answer, and exits 1", async () => {
    const port = await freePort(); // a closed port: the shared Redis stays up for the other tests
    const result = await doctor(production({ FAMOS_REDIS_URL: `redis://127.0.0.1:${port}` }));
    expect(result.code).toBe(1);
    expect(row(result, "redis")[0]).toMatch(/FAIL\s+unreachable: connect ECONNREFUSED/);
    expect(result.stdout).toContain("1 check failed.");
  });

  it("fails naming Redis when it takes the connection but never answers (hung), and exits 1", async () => {
    await withSilentServer(async (port) => {
      const hung = new Promise<string>((resolve) => setTimeout(() => resolve("doctor still running after 20 s"), 20_000).unref());
      const result = await Promise.race([doctor(production({ FAMOS_REDIS_URL: `redis://127.0.0.1:${port}` })), hung]);
      if (typeof result === "string") throw new Error(result);
      expect(result.code).toBe(1);
      expect(row(result, "redis")[0]).toMatch(/FAIL\s+unreachable: no answer within 3 s/);
    });
  }, 30_000);

  it("fails naming FAMOS_DATABASE_TIMEOUT when PostgreSQL takes the connection but never answers, and exits 1", async () => {
    await withSilentServer(async (port) => {
      const hung = new Promise<string>((resolve) => setTimeout(() => resolve("doctor still running after 20 s"), 20_000).unref());
      const env = production({ FAMOS_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`, FAMOS_DATABASE_TIMEOUT: "1s" });
      const result = await Promise.race([doctor(env), hung]);
      if (typeof result === "string") throw new Error(result);
      expect(result.code).toBe(1);
      expect(row(result, "database")[0]).toMatch(/FAIL\s+unreachable: no answer within 1 second \(FAMOS_DATABASE_TIMEOUT\)/);
    });
  }, 30_000);

  it("fails naming the pending migrations of an unmigrated database, and exits 1", async () => {
    const result = await doctor(production({ FAMOS_DATABASE_URL: unmigrated.url }));
    expect(result.code).toBe(1);
    expect(row(result, "migrations")[0]).toMatch(/FAIL\s+pending: 001-initial.*; run famos migrate/);
  });

  it("fails on a misspelt setting, naming the one it probably meant, and exits 1", async () => {
    const result = await doctor(production({ FAMOS_SESION_IDLE: "20m" }));
    expect(result.code).toBe(1);
    expect(row(result, "settings")[0]).toMatch(/FAIL\s+FAMOS_SESION_IDLE is not a FAMOS setting \(did you mean FAMOS_SESSION_IDLE\?\)/);
  });

  it("warns of FAMOS_TRUST_PROXY=true, which takes any client's own X-Forwarded-For as its address (limits, address lock, audit; a FAMOS_TRUSTED_NETWORKS address claimed skips the address lock), and passes the proxy's own address", async () => {
    const trusting = await doctor(production({ FAMOS_TRUST_PROXY: "true" }));
    expect(trusting.code, trusting.stdout).toBe(0);
    expect(row(trusting, "proxy")[0]).toMatch(/WARN\s+FAMOS_TRUST_PROXY=true trusts every client's own X-Forwarded-For: .*FAMOS_TRUSTED_NETWORKS.*; name the proxy's own addresses/);
    const named = await doctor(production({ FAMOS_TRUST_PROXY: "127.0.0.1" }));
    expect(row(named, "proxy")).toEqual([]);
  });

  // Fastify 5 takes a hop count alone as trusting nobody (it cannot tell a proxy from a client that sent
  // enough entries of its own): the proxy's address is every user's, and its X-Forwarded-Proto is ignored.
  it("warns of a FAMOS_TRUST_PROXY hop count, which trusts no proxy at all, and fails plain http beside it as without a proxy", async () => {
    const counted = await doctor(production({ FAMOS_TRUST_PROXY: "1" }));
    expect(counted.code, counted.stdout).toBe(0);
    expect(row(counted, "proxy")[0]).toMatch(/WARN\s+FAMOS_TRUST_PROXY=1 is a hop count, which trusts no proxy: .*one address.*; name the proxy's own addresses/);
    const plain = await doctor(production({ FAMOS_TRUST_PROXY: "1", FAMOS_PUBLIC_URL: "http://famos.dealer.example" }));
    expect(plain.code).toBe(1);
    expect(row(plain, "public URL")[0]).toMatch(/FAIL\s+http:\/\/famos.dealer.example is http in production/);
  });

  // Fastify takes a trustProxy of 0 as off (falsy: no proxy code at all), not as a count: doctor says
  // nothing of it, as of FAMOS_TRUST_PROXY=off, rather than call it a hop count.
  it("says nothing of FAMOS_TRUST_PROXY=0, which is off as FAMOS_TRUST_PROXY=off is, not a hop count", async () => {
    const zero = await doctor(production({ FAMOS_TRUST_PROXY: "0" }));
    const off = await doctor(production({ FAMOS_TRUST_PROXY: "off" }));
    expect({ code: zero.code, proxy: row(zero, "proxy") }).toEqual({ code: off.code, proxy: row(off, "proxy") });
    expect(zero.stdout).not.toMatch(/hop count/);
  });

  it("fails on plain http in production, where session cookies would travel without Secure", async () => {
    const result = await doctor(production({ FAMOS_PUBLIC_URL: "http://famos.dealer.example" }));
    expect(result.code).toBe(1);
    expect(row(result, "public URL")[0]).toMatch(/FAIL\s+http:\/\/famos.dealer.example is http in production/);
  });
});
