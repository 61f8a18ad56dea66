/**
 * Sign-in flows per second of one and of several `famos serve` processes on one PostgreSQL.
 *
 *   node --import tsx scripts/load-pg.ts [--instances 1,2] [--concurrency 16] [--duration 20]
 *        [--warmup 3] [--users 400] [--database postgres://postgres@127.0.0.1:5432/test]
 *
 * For each instance count: a fresh schema, users with a confirmed OTP email, N production-mode
 * processes on loopback ports, an SMTP sink in this process; then `concurrency` virtual users run
 * complete flows (GET /login, POST /login, the code from the mail, GET /otp, POST /otp, GET /,
 * POST /logout), spread round robin over the instances, for `duration` seconds after a warm-up.
 * Request limits are off and locks never trigger (every password and code is right).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { SMTPServer } from "smtp-server";
import { Agent, fetch } from "undici";
import { hashPassword } from "../src/password/hash.ts";
import { cryptoRandom } from "../src/platform/random.ts";
import { openStore } from "../src/store/database.ts";
import { migrateToLatest } from "../src/store/migrate.ts";
import { userRow } from "../src/users/users.ts";
import { decodeSecret } from "../src/config/secret.ts";
import { deriveKeys } from "../src/platform/keys.ts";

const SECRET = "b".repeat(64);

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const { values: argv } = parseArgs({
  options: {
    instances: { type: "string", default: "1,2" },
    concurrency: { type: "string", default: "16" },
    duration: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    users: { type: "string", default: "400" },
    database: { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
  },
});
const concurrency = Number(argv.concurrency);
const durationMs = Number(argv.duration) * 1000;
const warmupMs = Number(argv.warmup) * 1000;
const userCount = Math.max(Number(argv.users), concurrency);
const PASSWORD = "load test passphrase 2024";

// --- SMTP sink: hands each code to whoever waits for the recipient's next mail -----------------------
const waiting = new Map<string, Array<(code: string) => void>>();
const early = new Map<string, string[]>();
const sink = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  hideSTARTTLS: true,
  disableReverseLookup: true,
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const code = /passcode is: ?(\d{6})/.exec(raw)?.[1];
      const to = session.envelope.rcptTo[0]?.address.toLowerCase();
      if (code && to) {
        const next = waiting.get(to)?.shift();
        if (next) next(code);
        else early.set(to, [...(early.get(to) ?? []), code]);
      }
      callback();
    });
  },
});
sink.on("error", () => undefined);

function codeFor(address: string): Promise<string> {
  const to = address.toLowerCase();
  const ready = early.get(to)?.shift();
  if (ready) return Promise.resolve(ready);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no code for ${to} in 15 s`)), 15_000);
    waiting.set(to, [
      ...(waiting.get(to) ?? []),
      (code) => {
        clearTimeout(timer);
        resolve(code);
      },
    ]);
  });
}

/** CPU seconds a process has used (utime + stime from /proc, Linux), or NaN elsewhere. */
function processCpu(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat. */
function machineBusy(): number {
  try {
    const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).map(Number);
    const idle = ticks[3]! + ticks[4]!;
    return (ticks.reduce((a, b) => a + b, 0) - idle) / 100;
  } catch {
    return Number.NaN;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// --- one browser-like client --------------------------------------------------------------------------
class Client {
  cookies = new Map<string, string>();
  csrf = "";
  constructor(readonly base: string, readonly agent: Agent) {}
  async send(method: "GET" | "POST", path: string, fields?: Record<string, string>): Promise<{ status: number; location: string | null }> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
    let body: string | undefined;
    if (fields) {
      body = new URLSearchParams({ ...fields, _csrf: this.csrf }).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers.origin = this.base;
    }
    const response = await fetch(`${this.base}${path}`, { method, headers, body, redirect: "manual", dispatcher: this.agent });
    const text = await response.text();
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      const value = pair.slice(eq + 1);
      if (value === "" || /max-age=0/i.test(line)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: response.status, location: response.headers.get("location") };
  }
}

async function flow(base: string, agent: Agent, user: { login: string; email: string }): Promise<void> {
  const c = new Client(base, agent);
  const expect = (step: string, got: { status: number; location: string | null }, status: number, location?: string) => {
    if (got.status !== status || (location !== undefined && got.location !== location)) {
      throw new Error(`${step}: ${got.status} ${got.location ?? ""}`);
    }
  };
  expect("GET /login", await c.send("GET", "/login"), 200);
  const code = codeFor(user.email);
  expect("POST /login", await c.send("POST", "/login", { loginId: user.login, password: PASSWORD }), 303, "/otp");
  expect("GET /otp", await c.send("GET", "/otp"), 200);
  expect("POST /otp", await c.send("POST", "/otp", { code: await code }), 303, "/");
  expect("GET /", await c.send("GET", "/"), 200);
  expect("POST /logout", await c.send("POST", "/logout", {}), 303);
}

// --- one measurement ----------------------------------------------------------------------------------
async function measure(instances: number, smtpUrl: string) {
  const schema = `load_${instances}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: argv.database });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${argv.database}?schema=${schema}`;
  const store = openStore(url);
  const children: ChildProcess[] = [];
  try {
    await migrateToLatest(store);
    const hash = await hashPassword(PASSWORD);
    const users = Array.from({ length: userCount }, (_, i) => ({ login: `load${i}`, email: `load${i}@dealer.example` }));
    const now = Date.now();
    // The instances' FAMOS_SECRET below: each account keeps its login ID's digest under its keys.
    const keys = deriveKeys(decodeSecret(SECRET)!);
    for (let i = 0; i < users.length; i += 200) {
      const rows = users.slice(i, i + 200).map((u) =>
        userRow(keys, cryptoRandom, now, { loginId: u.login, fullName: "Load Test", partnerNumber: "01234", role: "user", passwordHash: hash, otpEmail: u.email }),
      );
      await store.db.insertInto("users").values(rows).execute();
    }

    const bases: string[] = [];
    for (let i = 0; i < instances; i += 1) {
      const port = await freePort();
      const env = {
        ...process.env,
        NODE_ENV: "production",
        FAMOS_HOST: "127.0.0.1",
        FAMOS_PORT: String(port),
        FAMOS_DATABASE_URL: url,
        FAMOS_SMTP_URL: smtpUrl,
        FAMOS_SECRET: SECRET,
        FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
        FAMOS_SUPPORT_EMAIL: "retailit@famos.test",
        FAMOS_RATE_LIMIT: "0",
        FAMOS_OTP_PER_HOUR: "0",
        FAMOS_LOG_LEVEL: "warn",
      };
      children.push(spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve"], { cwd: ROOT, env, stdio: ["ignore", "ignore", "inherit"] }));
      bases.push(`http://127.0.0.1:${port}`);
    }
    for (const base of bases) {
      for (let i = 0; ; i += 1) {
        if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
        if (i > 300) throw new Error(`${base} did not start`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const agent = new Agent({ connections: concurrency * 2, pipelining: 1 });
    const start = Date.now();
    const measureFrom = start + warmupMs;
    const end = measureFrom + durationMs;
    let done = 0;
    let failed = 0;
    const firstErrors: string[] = [];
    const latencies: number[] = [];
    let next = 0;
    let cpuAtStart: { instances: number; driver: number; machine: number } | null = null;
    const cpuNow = () => ({
      instances: children.reduce((sum, c) => sum + processCpu(c.pid), 0),
      driver: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
      machine: machineBusy(),
    });
    setTimeout(() => (cpuAtStart = cpuNow()), Math.max(0, measureFrom - Date.now()));
    let cpuAtEnd: ReturnType<typeof cpuNow> | null = null;
    setTimeout(() => (cpuAtEnd = cpuNow()), Math.max(0, end - Date.now()));
    await Promise.all(
      Array.from({ length: concurrency }, async (_, vu) => {
        // Each virtual user has users of its own, so no two flows of one account overlap.
        const mine = users.filter((_, i) => i % concurrency === vu);
        for (let n = 0; Date.now() < end; n += 1) {
          const base = bases[next++ % bases.length]!;
          const began = Date.now();
          try {
            await flow(base, agent, mine[n % mine.length]!);
            if (began >= measureFrom && Date.now() <= end) {
              done += 1;
              latencies.push(Date.now() - began);
            }
          } catch (error) {
            failed += 1;
            if (firstErrors.length < 3) firstErrors.push(String((error as Error).message));
          }
        }
      }),
    );
    await agent.close();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
    const start0 = cpuAtStart as ReturnType<typeof cpuNow> | null;
    const end0 = cpuAtEnd as ReturnType<typeof cpuNow> | null;
    const perFlowMs = (key: "instances" | "driver" | "machine") =>
      start0 && end0 && done > 0 ? ((end0[key] - start0[key]) * 1000) / done : Number.NaN;
    const cpu = { instances: perFlowMs("instances"), driver: perFlowMs("driver"), machine: perFlowMs("machine") };
    return { instances, flowsPerSecond: done / (durationMs / 1000), flows: done, failed, p50: pct(50), p95: pct(95), firstErrors, cpu };
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
    await store.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
const smtpUrl = `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}?ignoreTLS=true`;
console.log(`concurrency ${concurrency}, ${argv.duration} s measured after ${argv.warmup} s warm-up, ${userCount} users`);
for (const instances of argv.instances!.split(",").map(Number)) {
  const r = await measure(instances, smtpUrl);
  console.log(
    `${r.instances} instance(s): ${r.flowsPerSecond.toFixed(1)} flows/s (${r.flows} flows, ${r.failed} failed), ` +
      `flow latency p50 ${r.p50} ms, p95 ${r.p95} ms; CPU per flow: FAMOS ${r.cpu.instances.toFixed(1)} ms, ` +
      `load driver ${r.cpu.driver.toFixed(1)} ms, whole machine ${r.cpu.machine.toFixed(1)} ms` +
      `${r.firstErrors.length ? `; errors: ${r.firstErrors.join(" | ")}` : ""}`,
  );
}
sink.close();
