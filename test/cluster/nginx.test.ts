import { loginCounterKey } from "../support/login-counter.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import pino from "pino";
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { addUser, TEST_SECRET } from "../support/app.ts";
import type { LightMyRequestResponse } from "fastify";
import { FormClient, nextCode, overHttp } from "../support/client.ts";
import { freePort, startNginx, type RunningNginx } from "../support/nginx.ts";
import { productionEnv, REPO_ROOT, startServer, type ServerProcess } from "../support/server-process.ts";
import { postgresTestUrl, redisTestUrl, type PostgresTestSchema } from "../support/services.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until, within } from "../support/until.ts";

/** The nginx site exactly as the README gives it, with this machine's ports and a test certificate. */
function readmeNginxSite(ports: { http: number; https: number; a: number; b: number }, cert: string, key: string): string {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const site = /```nginx\n(# \/etc\/nginx\/conf\.d\/famos\.conf\n[\s\S]*?)```/.exec(readme)?.[1];
  if (!site) throw new Error("README.md has no nginx site block");
  const replace = (text: string, from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`the README's nginx site no longer contains "${from}"`);
    return text.replace(from, to);
  };
  let config = site;
  config = replace(config, "server 127.0.0.1:3001 max_fails=0;", `server 127.0.0.1:${ports.a} max_fails=0;`);
  config = replace(config, "server 127.0.0.1:3002 max_fails=0;", `server 127.0.0.1:${ports.b} max_fails=0;`);
  config = replace(config, "listen 80;", `listen 127.0.0.1:${ports.http};`);
  config = replace(config, "listen 443 ssl;", `listen 127.0.0.1:${ports.https} ssl;`);
  config = replace(config, "/etc/ssl/famos/fullchain.pem", cert);
  config = replace(config, "/etc/ssl/famos/privkey.pem", key);
  // Test only: which instance answered.
  return replace(config, "proxy_pass http://famos;", "proxy_pass http://famos;\n        add_header X-Upstream $upstream_addr always;");
}

describe("two instances on one PostgreSQL behind nginx (README configuration)", () => {
  let pg: PostgresTestSchema;
  let smtp: TestSmtpServer;
  let nginx: RunningNginx;
  let instances: ServerProcess[] = [];
  let store: Store;
  let deps: Deps;
  let ca: string;
  const agents: Agent[] = [];
  let base: string;
  let certDir: string;
  /** The instances' environment (a restarted instance gets the same). */
  let env: Record<string, string>;
  /** Upstream (instance address) of every request, in order. */
  const trail: string[] = [];

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), "famos-tls-"));
    const cert = join(certDir, "cert.pem");
    const key = join(certDir, "key.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert,
    ], { stdio: "ignore" });
    ca = readFileSync(cert, "utf8");

    [pg, smtp] = await Promise.all([postgresTestUrl("cluster"), startSmtpServer()]);
    const [http, https] = [await freePort(), await freePort()];
    base = `https://127.0.0.1:${https}`;
    env = productionEnv({
      FAMOS_DATABASE_URL: pg.url,
      FAMOS_SMTP_URL: smtp.url,
      FAMOS_REDIS_URL: await redisTestUrl(),
      FAMOS_PUBLIC_URL: base,
      FAMOS_TRUST_PROXY: "127.0.0.1",
      FAMOS_RATE_LIMIT: "1000",
      // Shorter than the default 5s, so that a database held up answers 503 within the test's time.
      FAMOS_DATABASE_TIMEOUT: "2s",
    });
    // Both start (and migrate) at once, as a deployment would.
    instances = await Promise.all([startServer(env), startServer(env)]);
    nginx = await startNginx({
      httpConfig: readmeNginxSite({ http, https, a: instances[0]!.port, b: instances[1]!.port }, cert, key),
    });
    store = openStore(pg.url);
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: pg.url });
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    deps = createServices(loaded.config, { store, logger: pino({ level: "silent" }), startSender: false }).deps;
  }, 90_000);

  afterAll(async () => {
    await nginx?.stop();
    // SIGKILL: the rolling restart above tests the graceful stop; here a graceful one would only wait its drain's 2 s.
    await Promise.all(instances.map((i) => i.stop("SIGKILL")));
    await store?.close();
    for (const agent of agents) await agent.close();
    await smtp?.stop();
    await pg?.drop();
    rmSync(certDir, { recursive: true, force: true });
  });

  /**
   * A browser at its own loopback address 127.0.0.<n>: nginx passes it on as X-Forwarded-For, and
   * the instances (trusting the proxy) count failures and request limits per that address, so the
   * tests' wrong codes do not lock each other out.
   */
  function client(n: number, headers: Record<string, string> = {}): FormClient & { step(method: "GET" | "POST", path: string, fields?: Record<string, string>): Promise<LightMyRequestResponse> } {
    const agent = new Agent({ connect: { ca }, localAddress: `127.0.0.${n}` });
    agents.push(agent);
    const c = new FormClient(overHttp(base, agent), undefined, headers) as FormClient & { step: never };
    return Object.assign(c, {
      async step(method: "GET" | "POST", path: string, fields?: Record<string, string>) {
        const answer = method === "GET" ? await c.get(path) : await c.post(path, fields);
        trail.push(String(answer.headers["x-upstream"] ?? "none"));
        return answer;
      },
    });
  }

  /**
   * Makes the next request land on the instance other than `instance`: nginx's round robin sends
   * each request to the other instance than the one before, so one filler request may be needed.
   */
  async function nextAvoids(instance: string): Promise<void> {
    if (trail.at(-1) === instance) return;
    const answer = await fetch(`${base}/healthz`, { dispatcher: agents[0] });
    trail.push(answer.headers.get("x-upstream") ?? "none");
    expect(trail.at(-1)).toBe(instance);
  }

  const live = (port: number) => `127.0.0.1:${port}`;

  /** A new user signed in fully through nginx by browser 127.0.0.<n>, wherever its steps land. */
  async function signedInThrough(n: number) {
    const user = await addUser(deps);
    const c = client(n);
    await c.step("GET", "/login");
    const before = smtp.messages.length;
    await c.step("POST", "/login", { loginId: user.login_id, password: user.password });
    const code = await nextCode(smtp, user.otp_email!, before);
    await c.step("GET", "/otp");
    expect((await c.step("POST", "/otp", { code })).headers.location).toBe("/");
    return c;
  }

  it("serves over TLS with HTTPS-mode cookies and redirects plain HTTP", async () => {
    const c = client(11);
    const page = await c.step("GET", "/login");
    expect(page.statusCode).toBe(200);
    expect(page.headers["strict-transport-security"]).toMatch(/max-age=31536000/);
    expect([page.headers["set-cookie"] ?? []].flat().join("\n")).toMatch(/__Host-famos_csrf=.*Secure/i);
    expect([live(instances[0]!.port), live(instances[1]!.port)]).toContain(trail.at(-1));
    const plain = await fetch(`http://127.0.0.1:${nginx.port}/login`, { redirect: "manual" });
    expect(plain.status).toBe(301);
    expect(plain.headers.get("location")).toBe("https://127.0.0.1/login");
  });

  it("completes a sign-in whose steps land on different instances", async () => {
    const user = await addUser(deps);
    // A forged X-Forwarded-For is replaced by nginx: the instances see the real client address.
    const c = client(12, { "x-forwarded-for": "203.0.113.9" });
    await c.step("GET", "/login");
    const before = smtp.messages.length;
    const password = await c.step("POST", "/login", { loginId: user.login_id, password: user.password });
    expect(password.headers.location).toBe("/otp");
    const passwordOn = trail.at(-1)!;
    const code = await nextCode(smtp, user.otp_email!, before);
    await c.step("GET", "/otp");
    await nextAvoids(passwordOn);
    const confirmed = await c.step("POST", "/otp", { code });
    expect(confirmed.headers.location).toBe("/");
    const codeOn = trail.at(-1)!;
    expect(codeOn).not.toBe(passwordOn);
    const portal = await c.step("GET", "/");
    const portalOn = trail.at(-1)!;
    expect(portal.body).toContain("Sign out");
    await nextAvoids(portalOn);
    expect((await c.step("GET", "/profile")).statusCode).toBe(200);
    expect(trail.at(-1)).not.toBe(portalOn);
    // The instances saw the browser's address (from X-Forwarded-For), not the proxy's.
    const audit = await store.db.selectFrom("audit").select("ip").where("subject", "=", user.login_id).execute();
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((r) => r.ip === "127.0.0.12")).toBe(true);
  });

  it("locks at the limit with wrong codes spread across both instances", async () => {
    const user = await addUser(deps);
    const c = client(13);
    await c.step("GET", "/login");
    const before = smtp.messages.length;
    await c.step("POST", "/login", { loginId: user.login_id, password: user.password });
    const code = await nextCode(smtp, user.otp_email!, before);
    const wrong = code === "000000" ? "111111" : "000000";
    await c.step("GET", "/otp");
    const on: string[] = [];
    const answers: LightMyRequestResponse[] = [];
    for (let i = 0; i < 5; i += 1) {
      answers.push(await c.step("POST", "/otp", { code: wrong }));
      on.push(trail.at(-1)!);
    }
    expect(new Set(on).size).toBe(2);
    expect(answers.map((a) => a.statusCode)).toEqual([401, 401, 401, 401, 401]);
    expect(answers[3]!.body).toContain("You have 1 try left.");
    expect(answers[4]!.body).toContain("That was the last try");
    const locked = await c.step("POST", "/otp", { code });
    expect(locked.statusCode).toBe(429);
    expect(locked.body).toContain("Too many wrong codes");
    const throttle = await store.db.selectFrom("throttles").select("failures").where("key", "=", loginCounterKey("code", user.login_id.toLowerCase())).executeTakeFirst();
    expect(throttle?.failures).toBe(5);
  });

  it("signing out on one instance ends the session on the other", async () => {
    const c = await signedInThrough(14);
    await c.step("GET", "/profile");
    const signedInCookies = c.cookieHeader();
    const out = await c.step("POST", "/logout");
    expect(out.statusCode).toBe(303);
    const outOn = trail.at(-1)!;

    const replay = client(15);
    for (const pair of signedInCookies.split("; ")) {
      const eq = pair.indexOf("=");
      replay.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    await nextAvoids(outOn);
    const after = await replay.step("GET", "/profile");
    expect(trail.at(-1)).not.toBe(outOn);
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toMatch(/^\/login/);
  });

  it("a database held up past FAMOS_DATABASE_TIMEOUT: 503 with Retry-After through nginx, after both instances tried, and neither is left out of the next requests", async () => {
    const c = await signedInThrough(18);
    // Every request reads its session: with the table locked, each instance's read waits out its bound.
    const held = await store.db.transaction().execute(async (tx) => {
      await sql`lock table sessions in access exclusive mode`.execute(tx);
      return c.step("GET", "/profile");
    });
    expect(held.statusCode).toBe(503);
    expect(held.headers["retry-after"]).toBe("5");
    expect(held.body).toContain("FAMOS is busy at the moment");
    // nginx sent the GET on to the other instance (http_503 in proxy_next_upstream: it shares the
    // database, so it answered 503 too). Neither is left out of the next requests (max_fails=0): with
    // nginx's default, each would be out for fail_timeout, and the other take all, or nginx answer 502.
    // Each instance logs the 503 as it answers; the line reaches this process through a pipe, on its
    // own time, after nginx has passed the answer on: wait for it, with until's usual bound, not a tighter
    // one of its own (a loaded machine delays it).
    for (const instance of instances) await until(`"database unavailable" in instance ${instance.port}'s log`, () => instance.stdout().includes('"msg":"database unavailable"'));
    const start = trail.length;
    for (let i = 0; i < 4; i += 1) expect((await c.step("GET", "/profile")).statusCode).toBe(200);
    expect(new Set(trail.slice(start))).toEqual(new Set(instances.map((i) => live(i.port))));
  }, 30_000);

  it("makes one session when the right code is raced on both instances", async () => {
    const user = await addUser(deps);
    const c = client(16);
    await c.step("GET", "/login");
    const before = smtp.messages.length;
    await c.step("POST", "/login", { loginId: user.login_id, password: user.password });
    const code = await nextCode(smtp, user.otp_email!, before);
    await c.step("GET", "/otp");
    const racers = Array.from({ length: 8 }, () => {
      const r = client(17);
      for (const [name, value] of c.cookies) r.cookies.set(name, value);
      r.csrf = c.csrf;
      return r;
    });
    const start = trail.length;
    const answers = await Promise.all(racers.map((r) => r.step("POST", "/otp", { code })));
    expect(new Set(trail.slice(start)).size).toBe(2);
    expect(answers.filter((a) => a.statusCode === 303 && a.headers.location === "/")).toHaveLength(1);
    const sessions = await store.db
      .selectFrom("sessions")
      .select(["stage"])
      .where("user_id", "=", user.id)
      .where("stage", "=", "full")
      .execute();
    expect(sessions).toHaveLength(1);
    const codes = await store.db.selectFrom("codes").select("consumed_at").where("user_id", "=", user.id).execute();
    expect(codes.filter((row) => row.consumed_at !== null)).toHaveLength(1);
  });

  it("a rolling restart: the instance stopped while it answers a request closes that connection, so the next sign-in's form goes to the other instance, and it exits at once; a new one joins while the other serves", async () => {
    const [a, b] = instances as [ServerProcess, ServerProcess];
    const c = await signedInThrough(19);
    const user = await addUser(deps);
    const next = client(20);
    await next.step("GET", "/login");
    await nextAvoids(live(a.port));
    // b is reading a session (held by a lock) on a connection nginx keeps alive when it is told to stop.
    const inFlight = await store.db.transaction().execute(async (tx) => {
      await sql`lock table sessions in access exclusive mode`.execute(tx);
      const answer = c.step("GET", "/profile");
      await until("b's session read to wait for the lock", async () => {
        const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_locks where relation = ${`"${pg.schema}".sessions`}::regclass and not granted`.execute(store.db);
        return waiting.rows[0]!.n > 0;
      });
      b.child.kill("SIGTERM");
      await until("b to begin its shutdown", () => b.stdout().includes('"msg":"shutting down"'));
      return { answer };
    });
    expect((await inFlight.answer).statusCode).toBe(200);
    // Its answer closed the connection: b has nothing left to finish and stops (exit 0) without
    // waiting for nginx to send another request on it, or for the 25 s bound.
    expect(await within(b.exited, "b's exit once its one request was answered", 15_000)).toEqual({ code: 0, signal: null });
    expect(b.stdout()).not.toContain("shutdown took longer");
    // The next sign-in's password form is taken (by a, as b is gone): not a 503 for a form nginx
    // cannot send twice.
    const before = smtp.messages.length;
    const password = await next.step("POST", "/login", { loginId: user.login_id, password: user.password });
    expect(password.statusCode).toBe(303);
    expect(password.headers.location).toBe("/otp");
    expect(trail.at(-1)).toBe(live(a.port));
    const code = await nextCode(smtp, user.otp_email!, before);
    // A new instance on b's port starts (migrating: nothing pending) while a serves, and takes its share.
    instances[1] = await startServer({ ...env, FAMOS_PORT: String(b.port) });
    await next.step("GET", "/otp");
    const start = trail.length;
    expect((await next.step("POST", "/otp", { code })).headers.location).toBe("/");
    for (let i = 0; i < 3; i += 1) expect((await next.step("GET", "/profile")).statusCode).toBe(200);
    expect(new Set(trail.slice(start))).toEqual(new Set([live(a.port), live(b.port)]));
  }, 60_000);
});
