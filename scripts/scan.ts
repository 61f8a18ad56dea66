/**
 * `npm run scan`: Debian's sqlmap against the sign-in, enrolment and code forms of a real FAMOS.
 *
 * The instance runs with request limits and locks lifted (FAMOS_RATE_LIMIT=0, FAMOS_LOCK_AFTER and
 * FAMOS_OTP_TRIES large, FAMOS_OTP_PER_HOUR=0) — settings for the scan only — so sqlmap's requests
 * reach the handlers instead of a 429 or a lock. sqlmap fetches a fresh CSRF token from the form's
 * page before each request (--csrf-token/--csrf-url). Afterwards the server's own request counter
 * (/metrics, famos_http_request_duration_seconds_count by route and status) shows how many of
 * sqlmap's requests each handler answered, and how many bounced off CSRF (403) or limits (429).
 *
 * Exit 0: no injection found and the handlers were reached; 1: a finding, or the scan did not
 * reach the handlers; 2: the scan could not run. Not part of `npm test` (it takes minutes).
 * Options: SQLMAP_LEVEL (default 2), SQLMAP_RISK (default 1).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashPassword } from "../src/password/hash.ts";
import { cryptoRandom } from "../src/platform/random.ts";
import { userRow } from "../src/users/users.ts";
import { formSession, startInstance, type Instance } from "./lib/instance.ts";

const SQLMAP = "/usr/bin/sqlmap";
const LEVEL = process.env.SQLMAP_LEVEL ?? "2";
const RISK = process.env.SQLMAP_RISK ?? "1";
const PASSWORD = "scan password for sqlmap";

interface Target {
  name: string;
  path: string;
  data: string;
  params: string;
  /** Cookie header of a session at the form's step ("" for the sign-in form). */
  cookie: string;
}

async function main(): Promise<number> {
  const hash = await hashPassword(PASSWORD);
  const instance = await startInstance(
    { FAMOS_RATE_LIMIT: "0", FAMOS_LOCK_AFTER: "1000000", FAMOS_CODE_HARD_LOCK: "1000000000", FAMOS_OTP_TRIES: "100", FAMOS_OTP_PER_HOUR: "0" },
    async (db, keys) => {
      const now = Date.now();
      const user = (loginId: string, otpEmail: string | null) =>
        userRow(keys, cryptoRandom, now, { loginId, fullName: "Scan Target", partnerNumber: "1", role: "user", passwordHash: hash, otpEmail });
      await db.insertInto("users").values([user("scan-user", "scan@dealer.example"), user("scan-enrol", null)]).execute();
    },
  );
  const outputDir = mkdtempSync(join(tmpdir(), "famos-sqlmap-"));
  try {
    const targets: Target[] = [
      { name: "sign in", path: "/login", data: "loginId=scan-user&password=guess&_csrf=x", params: "loginId,password", cookie: (await formSession(instance.url)).cookie },
      { name: "enrolment", path: "/enrol", data: "email=x&confirmEmail=y&_csrf=x", params: "email,confirmEmail", cookie: await sessionAt(instance, "scan-enrol", "/enrol") },
      { name: "code", path: "/otp", data: "code=12345x&_csrf=x", params: "code", cookie: await sessionAt(instance, "scan-user", "/otp") },
    ];
    let failed = false;
    const report: string[] = [];
    for (const target of targets) {
      const before = await requestCounts(instance.url, target.path);
      const started = Date.now();
      const { code, output } = await runSqlmap(instance.url, target, outputDir);
      const after = await requestCounts(instance.url, target.path);
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      const byStatus = new Map<string, number>();
      for (const [status, count] of after) byStatus.set(status, count - (before.get(status) ?? 0));
      const total = [...byStatus.values()].reduce((a, b) => a + b, 0);
      const bounced = (byStatus.get("403") ?? 0) + (byStatus.get("429") ?? 0);
      const found = /identified the following injection point|is vulnerable|appears to be injectable/i.test(output) && !/do not appear to be injectable/i.test(output.split("\n").slice(-30).join("\n"));
      const clean = /all tested parameters do not appear to be injectable/i.test(output);
      const statuses = [...byStatus].filter(([, n]) => n > 0).map(([s, n]) => `${s}: ${n}`).join(", ");
      const verdict = found ? "FINDING" : !clean ? "INCOMPLETE" : total - bounced < 50 || bounced > total / 10 ? "NOT REACHED" : "clean";
      report.push(`POST ${target.path} (${target.name}, ${target.params}): sqlmap exit ${code}, ${seconds} s; the server answered ${total} POSTs (${statuses}); ${verdict}`);
      process.stdout.write(`${report.at(-1)}\n`);
      if (verdict !== "clean" || process.env.SCAN_VERBOSE) {
        failed = true;
        process.stdout.write(output.split("\n").slice(-40).join("\n") + "\n");
      }
    }
    process.stdout.write(`\nsqlmap ${await sqlmapVersion()} --level=${LEVEL} --risk=${RISK} --csrf-token=_csrf against ${instance.url}\n${report.map((r) => `  ${r}`).join("\n")}\n`);
    process.stdout.write(failed ? "FAIL\n" : "OK: no injection found; every form's handler answered sqlmap's requests\n");
    return failed ? 1 : 0;
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
    await instance.stop();
  }
}

/** Signs in with the password and returns the cookies of a session waiting at `step` (/enrol or /otp). */
async function sessionAt(instance: Instance, loginId: string, step: string): Promise<string> {
  const form = await formSession(instance.url);
  const response = await fetch(`${instance.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: form.cookie },
    body: new URLSearchParams({ loginId, password: PASSWORD, _csrf: form.csrf }).toString(),
  });
  if (response.headers.get("location") !== step) throw new Error(`sign-in of ${loginId} went to ${response.headers.get("location")}, not ${step}`);
  // As a browser keeps them: a cookie the sign-in set again (its CSRF secret is renewed) replaces the
  // form's, never sent beside it (a security cookie named twice is trusted in neither value).
  const jar = new Map<string, string>();
  for (const pair of [...form.cookie.split("; "), ...response.headers.getSetCookie().map((c) => c.split(";")[0]!)]) {
    if (pair) jar.set(pair.slice(0, pair.indexOf("=")), pair);
  }
  return [...jar.values()].join("; ");
}

/** POST requests the server answered on `route`, by status, from its own Prometheus counter. */
async function requestCounts(url: string, route: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^famos_http_request_duration_seconds_count\{(.*)\} (\d+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.method === "POST" && labels.route === route) counts.set(labels.status!, Number(match[2]));
  }
  return counts;
}

function runSqlmap(url: string, target: Target, outputDir: string): Promise<{ code: number | null; output: string }> {
  const args = [
    "-u", `${url}${target.path}`,
    // No --method: with it sqlmap would also POST to the token page. --data makes the target a POST.
    "--data", target.data,
    "-p", target.params,
    "--csrf-token", "_csrf",
    // A URL other than the target: sqlmap would otherwise POST the form to fetch the token.
    "--csrf-url", `${url}${target.path}?csrf-page=1`,
    "--cookie", target.cookie,
    "--level", LEVEL,
    "--risk", RISK,
    "--batch",
    "--answers", "follow=N",
    "--ignore-code", "400,401,404,409,422",
    "--flush-session",
    "--disable-coloring",
    "--output-dir", outputDir,
    "--threads", "1",
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(SQLMAP, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

async function sqlmapVersion(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(SQLMAP, ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("close", () => resolve(out.trim().split("\n")[0] ?? "?"));
    child.on("error", () => resolve("?"));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`scan failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(2);
  },
);
