import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { negotiateLocale } from "../../src/i18n/locales.ts";
import type { RouteEntry } from "../../src/web/route-list.ts";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { sampleCases, STAGES, stagesFor, type Stage } from "./fuzz-cases.ts";
import { wireRequest } from "./fuzz-request.ts";
import { sendRaw, type WireAnswer } from "./fuzz-wire.ts";
import { atChoosePassword, atCode, atEnrolment, formsPostingTo } from "./helpers.ts";

/**
 * SPEC "Bad input": a seeded fuzzer walks every route Fastify has (its route table, not a list of
 * ours) from each step of a sign-in, over a real socket, with malformed input of every kind: repeated,
 * array-valued and huge fields, bytes that are no UTF-8 and broken escapes, bodies of every content
 * type, broken and duplicated cookies, garbage in the query and the route's parameters, methods no
 * browser sends, odd languages, hosts, origins and referrers. Every answer is below 500 with nothing
 * logged as an error, a page in the reader's language (JSON where asked) that says what is wrong,
 * redirects stay on FAMOS, and a refused request leaves every table as it was.
 *
 * FAMOS_FUZZ_SEED picks the cases (printed with each failure), FAMOS_FUZZ_CASES how many per database.
 */
const SEED = Number(process.env.FAMOS_FUZZ_SEED ?? 20261205);
const CASES = Number(process.env.FAMOS_FUZZ_CASES ?? 230);
/** FAMOS_FUZZ_DATABASES=sqlite: a long exploratory run on one database. */
const DATABASES = DIALECTS.filter((d) => (process.env.FAMOS_FUZZ_DATABASES ?? "sqlite,postgres").split(",").includes(d));
const WEBHOOK_SECRET = "f".repeat(40);

/** Refusals that must store nothing at all; other refusals (a wrong password, a wrong code) count and audit, but leave accounts, sessions, flows and mail alone. */
const STORE_NOTHING = new Set([400, 403, 404, 405, 408, 411, 413, 414, 415, 431]);
const ACCOUNT_TABLES = ["users", "sessions", "flows", "outbox", "notices", "passkeys", "authenticator_apps", "recovery_codes", "rollout_plan", "mail_addresses"];
/** Kept by the machinery, not by requests: migrations and the background jobs' leases. */
const UNDIGESTED = new Set(["famos_migration", "famos_migration_lock", "job_leases"]);

const STAGE_PAGE: Record<Stage, string> = { anonymous: "/login", enrol: "/enrol", otp: "/otp", password: "/choose-password", user: "/profile", support: "/support", admin: "/support" };

/** The form fields FAMOS's pages and schemas name (read from the source, so new ones are fuzzed too). */
function fieldNames(): string[] {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/name="([A-Za-z]\w*)"/g)) names.add(m[1]!);
        for (const m of text.matchAll(/^\s+([a-z]\w*): (?:field|ticketField|z\.)/gm)) names.add(m[1]!);
      }
    }
  };
  walk("src/web");
  names.delete("viewport");
  return [...names].sort();
}

/** The query parameters FAMOS's routes read (query.x, query["x"], the audit filter's text("x", ...)). */
function queryNames(): string[] {
  const names = new Set<string>(["returnTo", "lang"]);
  for (const file of readdirSync("src/web/routes")) {
    const text = readFileSync(join("src/web/routes", file), "utf8");
    for (const m of text.matchAll(/query\.([a-z]\w*)|query\[["']([a-z]\w*)["']\]|text\("([a-z]\w*)", \d+\)/g)) names.add((m[1] ?? m[2] ?? m[3])!);
  }
  return [...names].sort();
}

describe.each(DATABASES)("fuzzing every route from every step of a sign-in (%s)", (database) => {
  let t: TestApp;
  let port: number;
  let upstream: Server;
  const errors: string[] = [];
  const clients = new Map<Stage, { client: FormClient; userId: string | null }>();
  let targetId: string;
  let tables: string[];
  let ipCounter = 0;

  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end("upstream"));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const upstreamPort = (upstream.address() as { port: number }).port;
    // Every error (or worse) either logger writes is a finding.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) {
          const record = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string; stack?: string } };
          if (record.level >= 50) errors.push(`${record.msg ?? ""}: ${record.err?.stack ?? record.err?.message ?? line.slice(0, 500)}`);
        }
        done();
      },
    });
    const logger = pino({ level: "warn" }, sink);
    t = await createTestApp({
      database,
      logger,
      requestLogger: logger,
      env: {
        FAMOS_LOCK_AFTER: "1000000",
        FAMOS_OTP_PER_HOUR: "0",
        FAMOS_OTP_RESEND_WAIT: "0s",
        FAMOS_PASSWORD_RESET: "self",
        FAMOS_BOUNCE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        FAMOS_UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
      },
    });
    port = Number(new URL(await listen(t)).port);
    targetId = (await addUser(t.deps, { loginId: `fuzz-target-${database}` })).id;
    tables = (await t.deps.db.introspection.getTables()).map((table) => table.name).filter((name) => !UNDIGESTED.has(name)).sort();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    upstream?.close();
  });

  /** The fields of each POST route's forms, as read from every page the fuzz has seen. */
  const formFields = new Map<string, Set<string>>();
  function learnForms(body: string): void {
    for (const route of t.app.famosRoutes) {
      if (route.method !== "POST") continue;
      for (const form of formsPostingTo(body, route.url)) for (const name of form.fields) (formFields.get(route.url) ?? formFields.set(route.url, new Set()).get(route.url)!).add(name);
    }
  }

  /** Each table's rows, as one hash per table: equal digests mean nothing stored changed. */
  async function digest(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const table of tables) {
      let rows = (await t.deps.db.selectFrom(table as "users").selectAll().execute()) as Record<string, unknown>[];
      // The mail sender updates delivery columns in the background; what was queued is what counts.
      if (table === "outbox") rows = rows.map(({ id, kind, recipient, subject }) => ({ id, kind, recipient, subject }));
      const lines = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).sort();
      out[table] = createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16);
    }
    return out;
  }

  /** A client at the step, signed in afresh when the last fuzzed request moved it on (signed out, cancelled, ...). */
  async function clientAt(stage: Stage): Promise<{ client: FormClient; userId: string | null }> {
    const existing = clients.get(stage);
    if (existing && (await existing.client.get(STAGE_PAGE[stage])).statusCode === 200) return existing;
    const ip = `10.77.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 1}`;
    let made: { client: FormClient; userId: string | null };
    if (stage === "anonymous") made = { client: new FormClient(t.app, ip), userId: null };
    else if (stage === "enrol") made = await atEnrolment(t, ip).then(({ client, user }) => ({ client, userId: user.id }));
    else if (stage === "otp") made = await atCode(t, undefined, ip).then(({ client, user }) => ({ client, userId: user.id }));
    else if (stage === "password") made = await atChoosePassword(t, ip).then(({ client, user }) => ({ client, userId: user.id }));
    else made = await signIn(t, { role: stage, ip }).then(({ client, user }) => ({ client, userId: user.id }));
    learnForms((await made.client.get(STAGE_PAGE[stage])).body);
    clients.set(stage, made);
    return made;
  }

  /** What is wrong with one answer, or null. */
  function problemWith(method: string, routeUrl: string | undefined, jsonRoute: boolean, answer: WireAnswer, languages: Set<string>): string | null {
    if (answer.status === 0) return `no answer (${answer.body.slice(0, 80)})`;
    if (answer.status >= 500) return `status ${answer.status}: ${answer.body.replace(/\s+/g, " ").slice(0, 300)}`;
    if (/\n\s+at [^\n]+:\d+:\d+/.test(answer.body)) return "a stack trace in the answer";
    const type = answer.headers["content-type"]?.[0] ?? "";
    const location = answer.headers.location?.[0];
    if (answer.status >= 300 && answer.status < 400 && location !== undefined) {
      // A path on FAMOS, or an address on FAMOS_PUBLIC_URL (forward-auth's sign-in link).
      const onFamos = /^\/(?![/\\])/.test(location) || location.startsWith(`${t.config.publicUrl.origin}/`);
      if (!onFamos) return `redirect off FAMOS: ${location}`;
    }
    if (jsonRoute && answer.status >= 400 && !type.startsWith("application/json") && method !== "HEAD") return `a JSON route refused with ${type || "no type"}`;
    if (answer.body === "") return answer.status >= 400 && method !== "HEAD" ? `a ${answer.status} answer without a word` : null;
    if (type.startsWith("text/html")) {
      const lang = /<html lang="([^"]+)"/.exec(answer.body)?.[1];
      if (lang === undefined) return "an HTML answer that is no FAMOS page";
      if (!languages.has(lang)) return `page in ${lang}, reader asked for ${[...languages].join(" or ")}`;
      if (answer.status >= 400 && !/role="alert"|class="[^"]*\b(error|message)\b/.test(answer.body)) return `a ${answer.status} page without a message`;
    } else if (type.startsWith("application/json") && answer.status >= 400) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(answer.body);
      } catch {
        return "JSON answer that does not parse";
      }
      if (typeof (parsed as { error?: unknown }).error !== "string") return `a ${answer.status} JSON answer without its error`;
    } else if (answer.status >= 400 && !(answer.status === 401 && type.startsWith("text/plain") && routeUrl === "/auth/nginx")) {
      return `a ${answer.status} answer of type ${type || "none"}: ${answer.body.slice(0, 120)}`;
    }
    return null;
  }

  it("absolute-form, asterisk-form and CONNECT targets over the wire: a plain 200 or 4xx, FAMOS's page or nothing, and the server goes on", async () => {
    const here = `127.0.0.1:${port}`;
    // The status where FAMOS's answer is settled (request-target.ts, connectAnswer): the same host in
    // absolute-form is served as its path, another host or two at once is 400, CONNECT is 400, and
    // asterisk-form (RFC 9112 3.2.4: OPTIONS only) with any other method is 400, not the root's page.
    const lines: Array<[method: string, target: string, status: number | "4xx"]> = [
      ["GET", `http://${here}/login`, 200],
      ["GET", `http://${here}/login?returnTo=%2Fprofile`, 200],
      ["HEAD", `http://${here}/login`, 200],
      ["POST", `http://${here}/login`, "4xx"],
      ["GET", `http://${here}`, 200],
      ["GET", "http://evil.example/login", 400],
      ["GET", `http://user:pass@${here}/login`, 400],
      ["OPTIONS", "*", "4xx"],
      ["GET", "*", 400],
      ["HEAD", "*", 400],
      ["POST", "*", "4xx"],
      ["OPTIONS", `http://${here}*`, "4xx"],
      ["CONNECT", here, 400],
      ["CONNECT", "evil.example:443", 400],
      ["CONNECT", "/login", 400],
      ["CONNECT", "*", 400],
    ];
    const failures: string[] = [];
    for (const [method, target, status] of lines) {
      const errorsBefore = errors.length;
      const answer = await sendRaw(port, { method, target, headers: [["host", here]] });
      const what = `${method} ${target} → ${answer.status}`;
      if (status === "4xx" ? answer.status < 400 || answer.status >= 500 : answer.status !== status) failures.push(`${what}: not ${status}`);
      const type = answer.headers["content-type"]?.[0] ?? "";
      if (answer.body !== "" && !(type.startsWith("text/html") && /<html lang="[^"]+"/.test(answer.body))) failures.push(`${what}: neither FAMOS's page nor empty (${type})`);
      const served = `${JSON.stringify(answer.headers)}\n${answer.body}`;
      if (/fastify|node\.js|v\d+\.\d+\.\d+|stack|at [\w.]+ \(/i.test(served)) failures.push(`${what}: gives away ${/fastify|node\.js|v\d+\.\d+\.\d+|stack|at [\w.]+ \(/i.exec(served)![0]}`);
      if (errors.length > errorsBefore) failures.push(`${what}: logged ${errors.slice(errorsBefore).join(" | ").slice(0, 300)}`);
      if ((await sendRaw(port, { method: "GET", target: "/healthz", headers: [["host", here]] })).status !== 200) failures.push(`${what}: the server stopped answering`);
    }
    expect(failures).toEqual([]);
  });

  it(`SPEC Bad input: ${CASES} seeded cases (FAMOS_FUZZ_SEED, FAMOS_FUZZ_CASES) answer below 500, in words, and a refusal changes nothing stored`, async () => {
    const routes: readonly RouteEntry[] = t.app.famosRoutes;
    const cases = sampleCases(fieldNames(), queryNames(), SEED, CASES);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const reached = new Set<string>();
    let turn = 0;
    for (const [index, c] of cases.entries()) {
      // Every route in turn (so each is reached every routes.length routed cases), from the case's step.
      const route = c.route === -1 ? null : routes[turn++ % routes.length]!;
      const served = stagesFor(route?.config.access);
      const stage = c.matchStage && !served.includes(c.stage) ? served[turn % served.length]! : c.stage;
      const { client, userId } = await clientAt(stage);
      const saved = userId ? (await t.deps.db.selectFrom("users").select("locale").where("id", "=", userId).executeTakeFirst())?.locale : null;
      const languages = new Set<string>([negotiateLocale(c.acceptLanguage ?? undefined) ?? t.config.defaultLocale, ...(saved ? [saved] : [])]);
      const routeFields = route ? [...(formFields.get(route.url) ?? [])] : [];
      const request = wireRequest(c, route, { port, cookies: client.cookies, csrf: client.csrf, targetId, webhookSecret: WEBHOOK_SECRET, routeFields });
      const errorsBefore = errors.length;
      const before = await digest();
      const answer = await sendRaw(port, request);
      const after = answer.status >= 400 ? await digest() : before;
      if (answer.status === 200) learnForms(answer.body);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (route) reached.add(`${route.method} ${route.url}`);
      const what = `case ${index} (seed ${SEED}) ${request.method} ${request.target.slice(0, 120)} from ${stage}, host ${c.host?.slice(0, 20) ?? "right"}, body ${c.body}, cookies ${c.cookies}, csrf ${c.csrf} → ${answer.status}`;
      // nginx's auth_request reads the status alone: its 401 is a word of plain text, by design.
      const problem = problemWith(request.method, route?.url, route?.config.json === true && request.method === route.method, answer, languages);
      if (problem) failures.push(`${what}: ${problem}`);
      if (errors.length > errorsBefore) failures.push(`${what}: logged ${errors.slice(errorsBefore).join(" | ").slice(0, 600)}`);
      const changed = Object.keys(before).filter((table) => before[table] !== after[table]);
      if (answer.status >= 400) {
        const wrongly = STORE_NOTHING.has(answer.status) ? changed : changed.filter((table) => ACCOUNT_TABLES.includes(table));
        if (wrongly.length) failures.push(`${what}: refused, yet changed ${wrongly.join(", ")}`);
      }
    }
    console.log(`fuzz ${database}: seed ${SEED}, ${cases.length} cases, ${reached.size} of ${routes.length} routes, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures).toEqual([]);
    // And the server goes on: alive, and each step's client still served.
    expect((await sendRaw(port, { method: "GET", target: "/healthz", headers: [["host", "localhost"]] })).status).toBe(200);
    for (const stage of STAGES) expect((await (await clientAt(stage)).client.get(STAGE_PAGE[stage])).statusCode, stage).toBe(200);
  }, Math.max(300_000, CASES * 400)); // about 30 ms a case on an idle machine; many times that on a busy one
});
