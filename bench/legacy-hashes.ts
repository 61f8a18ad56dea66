/**
 * Issue 19.3: can wrong passwords sent to imported (legacy) accounts slow everyone else's sign-in?
 *
 *   node --import tsx bench/legacy-hashes.ts [--samples 40] [--attackers 40] [--out bench/results]
 *
 * The product as famos-target starts it (production mode, SQLite, `famos serve` from the build,
 * UV_THREADPOOL_SIZE=2 as README advises for 2 cores), with users imported: a few with FAMOS's own
 * argon2id hashes, and one legacy account per attacker — bcrypt at cost 12 and Django's PBKDF2 at
 * 1,200,000 iterations in turn, the heaviest each the import takes. Then, one at a time, normal
 * sign-ins (POST /login with the right password, timed to its 303) are measured twice: alone, and
 * while `--attackers` clients each keep sending wrong passwords to their own legacy account (locks
 * lifted, so every attempt would be evaluated). The figure is the ratio of the two medians.
 */
import { randomBytes, pbkdf2 } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { hash as bcryptHash } from "@node-rs/bcrypt";
import { Pool } from "undici";
import { VuHttp } from "./lib/http.ts";
import { describeMachine, machineBusyMs } from "./lib/measure.ts";
import { cpuMs, freePort, runCommand, ServerProcess } from "./lib/proc.ts";
import { SmtpSink } from "./lib/smtp-sink.ts";
import { fmt, summarise } from "./lib/stats.ts";
import { makeUsers } from "./lib/users.ts";
import { PRODUCT_BIN, PRODUCT_MAIN, productEnv, REPO_ROOT, usersCsv } from "./scenarios/famos-target.ts";

const { values: argv } = parseArgs({
  options: { samples: { type: "string" }, attackers: { type: "string" }, out: { type: "string" } },
});
const SAMPLES = Number(argv.samples ?? 40);
const ATTACKERS = Number(argv.attackers ?? 40);
const OUT_DIR = argv.out ?? join(REPO_ROOT, "bench/results");
const pbkdf2Async = promisify(pbkdf2);

/** One legacy hash per attacker account, each with its own salt, at the import's ceilings. */
async function legacyHash(index: number, password: string): Promise<string> {
  if (index % 2 === 0) return bcryptHash(password, 12);
  const salt = randomBytes(9).toString("base64url");
  const derived = await pbkdf2Async(password, salt, 1_200_000, 32, "sha256");
  return `pbkdf2_sha256$1200000$${salt}$${derived.toString("base64")}`;
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

/** GET /login, then POST it; the POST's time in ms and its status. */
async function signIn(http: VuHttp, login: string, password: string): Promise<{ ms: number; status: number; location?: string }> {
  http.reset();
  const page = await http.get("/login");
  const start = performance.now();
  const answer = await http.post("/login", { form: { loginId: login, password, _csrf: csrfOf(page.text) } });
  return { ms: performance.now() - start, status: answer.status, ...(answer.location ? { location: answer.location } : {}) };
}

async function normalSignIns(pool: Pool, origin: string, users: { login: string; password: string }[], count: number): Promise<number[]> {
  const http = new VuHttp(pool, origin);
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const user = users[i % users.length]!;
    const result = await signIn(http, user.login, user.password);
    if (result.status !== 303 || result.location !== "/otp") throw new Error(`normal sign-in of ${user.login}: ${result.status} ${result.location ?? ""}`);
    times.push(result.ms);
  }
  return times;
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), "famos-legacy-bench-"));
  const sink = new SmtpSink();
  const sinkPort = await sink.start();
  const port = await freePort();
  const env = {
    ...process.env,
    ...productEnv({ port, sinkPort, dbPath: join(workDir, "famos.db"), secret: randomBytes(32).toString("hex") }),
    UV_THREADPOOL_SIZE: "2",
  };
  const normal = makeUsers("normal", 8);
  const legacy = makeUsers("legacy", ATTACKERS);
  process.stderr.write(`hashing ${ATTACKERS} legacy passwords (bcrypt cost 12, PBKDF2 1,200,000)…\n`);
  const legacyRows = await Promise.all(legacy.map(async (u, i) => [u.login, `Legacy ${i + 1}`, "1001", "user", u.email, await legacyHash(i, u.password)].join(",")));
  const csv = `${(await usersCsv(normal)).trimEnd()}\r\n${legacyRows.join("\r\n")}\r\n`;
  await writeFile(join(workDir, "users.csv"), csv);
  const cli = (args: string[]) => runCommand(process.execPath, ["--import", "tsx", PRODUCT_MAIN, ...args], { cwd: REPO_ROOT, env, timeoutMs: 180_000 });
  await cli(["migrate"]);
  await cli(["user", "import", join(workDir, "users.csv")]);
  const server = await ServerProcess.start({ name: "famos", script: PRODUCT_BIN, typescript: false, args: ["serve"], cwd: REPO_ROOT, env, port, nodeFlags: ["--max-semi-space-size=4"], readyTimeoutMs: 60_000 });
  const origin = `http://127.0.0.1:${port}`;
  const pool = new Pool(origin, { connections: 4, pipelining: 1 });
  // The attackers' own connections: closed, requests in flight and all, when the attack phase ends
  // (their queued verifications would otherwise take minutes to drain at the legacy pool's pace).
  const attackPool = new Pool(origin, { connections: ATTACKERS, pipelining: 1 });
  try {
    await normalSignIns(pool, origin, normal, 5); // warm-up

    /** Normal sign-ins, and the CPU the rest of the machine used meanwhile (a shared machine). */
    const phase = async () => {
      const [busy0, server0, own0, t0] = [await machineBusyMs(), await server.stats(), process.cpuUsage(), performance.now()];
      const times = await normalSignIns(pool, origin, normal, SAMPLES);
      const [busy1, server1, own1, t1] = [await machineBusyMs(), await server.stats(), process.cpuUsage(own0), performance.now()];
      const otherMs = busy0 === null || busy1 === null ? Number.NaN : busy1 - busy0 - cpuMs(server0, server1) - (own1.user + own1.system) / 1000;
      return { times, otherCores: otherMs / (t1 - t0), seconds: (t1 - t0) / 1000 };
    };

    const alone = await phase();
    let attacking = true;
    let wrong = 0;
    const attackers = legacy.map(async (user) => {
      const http = new VuHttp(attackPool, origin);
      while (attacking) {
        const result = await signIn(http, user.login, `${user.password}-wrong`).catch(() => null);
        if (result === null) return; // the attack pool was closed
        if (result.status !== 401) throw new Error(`attacker on ${user.login}: ${result.status}`);
        wrong += 1;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 2000)); // every attacker has a request in flight
    const wrongBefore = wrong;
    const underAttack = await phase();
    const wrongDuring = wrong - wrongBefore;
    attacking = false;
    await attackPool.destroy();
    await Promise.all(attackers);
    const aloneAgain = await phase();

    const rows = [
      ["alone", alone],
      [`with ${ATTACKERS} concurrent wrong legacy attempts`, underAttack],
      ["alone again", aloneAgain],
    ] as const;
    const aloneP50 = (summarise(alone.times).p50 + summarise(aloneAgain.times).p50) / 2;
    const machine = await describeMachine();
    const lines = [
      `# Legacy hashes under attack (issue 19.3), ${new Date().toISOString()}`,
      "",
      `Machine: ${machine.cpuModel} × ${machine.cpus}, Node ${process.versions.node}; server UV_THREADPOOL_SIZE=2, production mode, SQLite, locks lifted (FAMOS_LOCK_AFTER=1000000).`,
      `Normal sign-ins: POST /login with the right argon2id password (19 MiB, t=2), one at a time, ${SAMPLES} per phase.`,
      `Attack: ${ATTACKERS} clients, each sending wrong passwords to its own imported account (bcrypt cost 12 and PBKDF2-SHA256 1,200,000 in turn).`,
      `"other CPU" is what the rest of the machine used meanwhile, in cores (server and bench excluded).`,
      "",
      "| phase | p50 ms | p95 ms | max ms | other CPU |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...rows.map(([name, r]) => {
        const x = summarise(r.times);
        return `| ${name} | ${fmt(x.p50, 1)} | ${fmt(x.p95, 1)} | ${fmt(x.max, 1)} | ${fmt(r.otherCores, 2)} |`;
      }),
      "",
      `Ratio of medians (under attack ÷ mean of the two alone phases): ${(summarise(underAttack.times).p50 / aloneP50).toFixed(2)}`,
      `Wrong legacy attempts answered during the attack phase: ${wrongDuring} in ${underAttack.seconds.toFixed(1)} s (${(wrongDuring / underAttack.seconds).toFixed(1)}/s): the legacy pool runs them one at a time, at the lowest priority.`,
      `"alone again" starts as soon as the attackers' connections are closed, while the server may still be working through their queued verifications.`,
    ];
    const text = lines.join("\n");
    process.stdout.write(`${text}\n`);
    const file = join(OUT_DIR, `legacy-hashes-${new Date().toISOString().replace(/[:.]/g, "-")}.md`);
    await writeFile(file, `${text}\n`);
    process.stderr.write(`written to ${file}\n`);
  } catch (error) {
    process.stderr.write(`server output:\n${String(server.log)}\n`);
    throw error;
  } finally {
    await pool.close();
    await server.stop();
    await sink.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
