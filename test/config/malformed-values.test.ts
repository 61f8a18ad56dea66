import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { maskSetting } from "../../src/config/mask.ts";
import { OWN_PATHS } from "../../src/config/sections.ts";
import { createTestApp, TEST_SECRET } from "../support/app.ts";
import { cliWorkspace, type CliWorkspace } from "../cli/run-famos.ts";

/**
 * SPEC "Environment": every value is checked at start, all problems are reported together, each with
 * its variable's name. Each value below passed the check before and failed later: a stack trace from
 * a library when the server was built or the mail transport made, or a 500 on every /metrics request.
 */
const MALFORMED: Record<string, string[]> = {
  // Fastify's proxy-addr threw "invalid IP address" while the app was built.
  FAMOS_TRUST_PROXY: ["cafe", "10.0.0.0/99", "::::", "10.0.0.1,feed"],
  // Never checked: a bad prefix made BlockList throw on every /metrics request; a name was ignored.
  FAMOS_METRICS_ALLOW: ["10.0.0.0/99", "127.0.0.1/abc", "::1/200", "prometheus.internal", "127.0.0.1/8,::1,10.0.0.0/-1"],
  // Nodemailer's URL parser threw when the transport was made.
  FAMOS_SMTP_URL: ["smtp://%%", "smtp://mail relay:25", "smtp://mail.example:99999"],
  // ioredis's URL parser threw when famos serve opened Redis, after the database was migrated.
  FAMOS_REDIS_URL: ["redis://famos:secret@[redis.internal", "redis://redis.internal:99999", "redis://redis relay:6379"],
  // Fastify threw "Method 'GET' already declared" while registering the section's route.
  FAMOS_SECTIONS: ["/profile", "/login", "/support/tools", "/otp", "/healthz", "/quotation,/quotation", "Quotes=/quotation,Other=/quotation"],
};

describe("malformed settings", () => {
  it("each is refused at start with its variable's name", () => {
    for (const [name, values] of Object.entries(MALFORMED)) {
      for (const value of values) {
        const result = loadConfig({ FAMOS_SECRET: TEST_SECRET, [name]: value });
        expect(result.ok, `${name}=${value}`).toBe(false);
        if (!result.ok) expect(result.errors, `${name}=${value}`).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
      }
    }
  });

  it("a mistyped port in FAMOS_SMTP_URL is told as one: the reason names the host and port to check, not only the percent-encoding", () => {
    const problem = (value: string) => {
      const result = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_SMTP_URL: value });
      return result.ok ? [] : result.errors;
    };
    expect(problem("smtp://mail.dealer.example:25x")).toEqual([
      "FAMOS_SMTP_URL: is not a valid address: check the host and the port (1 to 65535); a user name or password with @, : or / is written percent-encoded (%40, %3A, %2F)",
    ]);
    expect(problem("smtp://mail.dealer.example:99999")).toEqual(["FAMOS_SMTP_URL: has port 99999; a port is a number from 1 to 65535"]);
  });

  it("a user or password in FAMOS_UPSTREAM_URL is refused, without quoting it: the proxy never sent them, and famos config showed them", () => {
    for (const value of ["http://app:UpstreamPw1@app.internal:8080", "https://app@app.internal", "http://:UpstreamPw1@app.internal"]) {
      const result = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_UPSTREAM_URL: value });
      expect(result.ok, value).toBe(false);
      if (result.ok) continue;
      expect(result.errors, value).toEqual([expect.stringMatching(/^FAMOS_UPSTREAM_URL: must not hold a user name or password/)]);
      expect(result.errors.join(" "), value).not.toContain("UpstreamPw1");
    }
    expect(loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_UPSTREAM_URL: "http://app.internal:8080/base" }).ok).toBe(true);
    // famos config and doctor show the refused value beside the problem: its password hidden too.
    expect(maskSetting("FAMOS_UPSTREAM_URL", "http://app:UpstreamPw1@app.internal:8080")).toBe("http://app:****@app.internal:8080/");
  });

  it("all of them are reported together, with the problems found before", () => {
    const env = Object.fromEntries(Object.entries(MALFORMED).map(([name, values]) => [name, values[0]!]));
    const result = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_PORT: "x", ...env });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.split(":")[0]).sort()).toEqual(["FAMOS_PORT", ...Object.keys(MALFORMED)].sort());
  });

  it("the values that are meant still work", async () => {
    for (const env of [
      { FAMOS_TRUST_PROXY: "10.0.0.0/8, 127.0.0.1, ::1, fd00::/8, loopback" },
      { FAMOS_TRUST_PROXY: "2" },
      { FAMOS_TRUST_PROXY: "true" },
      { FAMOS_METRICS_ALLOW: "127.0.0.1/8,::1,10.20.0.0/16, 192.0.2.7" },
      { FAMOS_SMTP_URL: "smtps://user:p%40ss@mail.dealer.example:465?tls.rejectUnauthorized=false" },
      { FAMOS_SECTIONS: "/quotation,Vehicles=/vehicle,/apps/customer-assistant,/profiles" },
    ]) {
      const result = loadConfig({ FAMOS_SECRET: TEST_SECRET, ...env });
      expect(result.ok ? [] : result.errors, JSON.stringify(env)).toEqual([]);
    }
    // A section path named like one of FAMOS's own but not under it is the application's.
    const t = await createTestApp({ env: { FAMOS_SECTIONS: "/profiles,/support-desk", FAMOS_METRICS_ALLOW: "127.0.0.1/8" } });
    try {
      expect((await t.app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it("FAMOS's own paths, which sections may not take, are every route's first segment (the sections' aside)", async () => {
    const t = await createTestApp({ env: { FAMOS_BOUNCE_WEBHOOK_SECRET: "s".repeat(40) } });
    try {
      const sections = new Set(t.config.sections.map((s) => s.path.split("/")[1]));
      const firsts = new Set(t.app.famosRoutes.map((r) => r.url.split("/")[1]!).filter((first) => first !== "" && !sections.has(first)));
      // The development mailbox (no FAMOS_SMTP_URL) is not in the test app; it is in the list.
      expect([...firsts].sort()).toEqual(OWN_PATHS.filter((p) => p !== "dev").sort());
    } finally {
      await t.close();
    }
  });

  describe("`famos serve`", () => {
    let cli: CliWorkspace;
    beforeAll(() => {
      cli = cliWorkspace();
    });
    afterAll(() => cli.remove());

    it("exits 1 listing every problem, without a stack trace, before making the demo user", async () => {
      const env = Object.fromEntries(Object.entries(MALFORMED).map(([name, values]) => [name, values[0]!]));
      const result = await cli.run(["serve"], { env: { ...env, FAMOS_PORT: "0" } });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^FAMOS cannot start; fix these settings:\n/);
      for (const name of Object.keys(MALFORMED)) expect(result.stderr).toContain(`  - ${name}: `);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stderr).not.toContain("Demo user");
    });
  });
});
