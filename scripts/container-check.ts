/**
 * The checks of scripts/container-check.sh, against a built image (argument: its tag): the container
 * run as the Dockerfile's comment says (read-only root, --tmpfs /tmp, a volume on /data, the secrets
 * mounted read-only, --stop-timeout 30), on the host's network (so it reaches this script's SMTP server
 * on 127.0.0.1, and a daemon without a bridge will do). One PASS/FAIL line per check; exit 1 on a FAIL.
 *
 *   node --import tsx scripts/container-check.ts famos:check
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { FormClient, overHttp, signIn } from "../test/support/client.ts";
import { smtpMailbox } from "../test/support/mailbox.ts";
import { freePort } from "../test/support/nginx.ts";
import { postgresTestUrl, redisTestUrl } from "../test/support/services.ts";
import { startSmtpServer } from "../test/support/smtp.ts";
import { until } from "../test/support/until.ts";

const image = process.argv[2] ?? "famos:check";
/** The Dockerfile's account. */
const FAMOS_UID = 10001;
const name = `famos-check-${process.pid}`;
const volume = `${name}-data`;
let failed = 0;

function report(check: string, ok: boolean, detail: string): void {
  if (!ok) failed += 1;
  console.log(`${ok ? "PASS" : "FAIL"} ${check}: ${detail}`);
}

function docker(args: string[], input = ""): { status: number | null; out: string; err: string } {
  const run = spawnSync("docker", args, { input, encoding: "utf8" });
  return { status: run.status, out: run.stdout.trim(), err: run.stderr.trim() };
}

function dockerAsync(args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, out: out.trim() }));
  });
}

/** What the image's own script prints: runs node in the image, as its user, on nothing but the image. */
const INSPECT_IMAGE = `
const fs = require("fs"), path = require("path");
const onPath = ["gcc", "cc", "g++", "c++", "make", "python3", "node-gyp", "git"].filter((tool) =>
  process.env.PATH.split(":").some((dir) => fs.existsSync(path.join(dir, tool))));
const lock = JSON.parse(fs.readFileSync("/app/package-lock.json", "utf8")).packages;
const devShipped = Object.keys(lock).filter((p) => p && lock[p].dev && fs.existsSync(path.join("/app", p)));
const sources = [];
const walk = (dir) => { for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
  const full = path.join(dir, e.name);
  if (e.isDirectory()) { if (full !== "/app/node_modules") walk(full); }
  else if (/\\.(ts|tsx|c|cc|cpp|h)$/.test(e.name)) sources.push(full);
} };
walk("/app");
let writable = [];
for (const p of ["/app", "/app/dist/famos.mjs", "/app/node_modules"]) { try { fs.accessSync(p, fs.constants.W_OK); writable.push(p); } catch {} }
console.log(JSON.stringify({ app: fs.readdirSync("/app").sort(), onPath, devShipped, sources, writable,
  addon: fs.readdirSync("/app/node_modules/better-sqlite3/build", { recursive: true }).sort(), src: fs.existsSync("/src"), uid: process.getuid() }));
`;

/** `docker diff` less the mount point Docker makes for the secrets' bind mount (/run/secrets in /run). */
function changed(container: string): string {
  const lines = docker(["diff", container]).out.split("\n").filter(Boolean);
  return lines.filter((line) => line !== "C /run" && line !== "A /run/secrets").join(", ");
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "famos-container-check-"));
  chmodSync(dir, 0o755);
  const smtp = await startSmtpServer();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The secrets as an operator hands them over: files of uid 10001, mode 600 (README, Container).
  const secrets = join(dir, "secrets");
  mkdirSync(secrets);
  chmodSync(secrets, 0o755);
  for (const [file, value] of [["famos_secret", randomBytes(32).toString("hex")], ["smtp_url", smtp.url]] as const) {
    writeFileSync(join(secrets, file), `${value}\n`, { mode: 0o600 });
    chownSync(join(secrets, file), FAMOS_UID, FAMOS_UID);
  }
  const env = {
    FAMOS_PUBLIC_URL: url,
    FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
    FAMOS_SUPPORT_EMAIL: "retail-it@famos.test",
    FAMOS_SECRET_FILE: "/run/secrets/famos_secret",
    FAMOS_SMTP_URL_FILE: "/run/secrets/smtp_url",
    FAMOS_HOST: "127.0.0.1",
    FAMOS_PORT: String(port),
  };
  const mounts = ["--network", "host", "-v", `${volume}:/data`, "-v", `${secrets}:/run/secrets:ro`, ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`])];
  const readOnly = ["--read-only", "--tmpfs", "/tmp"];
  try {
    const config = JSON.parse(docker(["image", "inspect", image, "--format", "{{json .Config}}"]).out) as { User: string; Healthcheck: { Test: string[] } };
    report("image user", config.User === "famos:famos", `USER ${config.User}`);

    const migrate = docker(["run", "--rm", ...readOnly, ...mounts, image, "migrate"]);
    const listing = docker(["run", "--rm", ...readOnly, ...mounts, "--entrypoint", "ls", image, "-ln", "/data"]);
    report("migrate on the volume", migrate.status === 0 && / 10001 10001 .* famos\.db$/m.test(listing.out), `exit ${migrate.status}, ${migrate.status === 0 ? `${(migrate.err.match(/\b\d{3}-/g) ?? []).length} migrations applied` : migrate.err}; /data: ${listing.out.split("\n").slice(1).join(" | ")}`);

    // Once with a writable root, so that `docker diff` shows anything written outside /data and /tmp.
    const password = "correct horse battery staple";
    const add = docker(["run", "-i", "--name", `${name}-add`, "--tmpfs", "/tmp", ...mounts, image, "user", "add", "dealer1", "--name", "Dana Dealer", "--partner", "40123", "--email", "dana@dealer.example"], `${password}\n`);
    const addDiff = changed(`${name}-add`);
    docker(["rm", `${name}-add`]);
    report("user add in the container", add.status === 0, `exit ${add.status} ${add.out} ${add.err}`.trim());
    report("user add writes nothing outside /data and /tmp (writable root, docker diff)", addDiff === "", addDiff || "no change");

    // Not spawnSync: this process's SMTP server must answer doctor's connection. With the README's
    // https public URL (over http, doctor rightly fails a production server's: cookies without Secure).
    const doctor = await dockerAsync(["run", "--rm", ...readOnly, ...mounts, "-e", "FAMOS_PUBLIC_URL=https://famos.example.com", image, "doctor"]);
    report("doctor", doctor.status === 0, `exit ${doctor.status}: ${doctor.out.split("\n").slice(1).map((line) => line.split(/\s{2,}/).slice(0, 2).join(" ")).join(", ")}`);

    // Also without capabilities and new privileges, as compose runs it.
    const hardened = ["--cap-drop", "ALL", "--security-opt", "no-new-privileges:true"];
    const started = docker(["run", "-d", "--name", name, ...readOnly, ...hardened, "--stop-timeout", "30", "--health-interval", "2s", ...mounts, image]);
    if (started.status !== 0) throw new Error(`docker run: ${started.err}`);
    const t0 = performance.now();
    await until("/readyz", async () => (await fetch(`${url}/readyz`)).ok, 60_000, 100);
    const health = await fetch(`${url}/healthz`);
    report("serve: /healthz and /readyz", health.ok, `/healthz ${health.status}, /readyz 200 after ${Math.round(performance.now() - t0)} ms`);
    const status = docker(["exec", name, "cat", "/proc/1/status"]).out;
    const uid = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.replace(/\s+/g, " ");
    report("serve runs as uid 10001", uid === "10001 10001 10001 10001", `PID 1 Uid: ${uid}`);

    await until("the HEALTHCHECK", () => docker(["inspect", name, "--format", "{{.State.Health.Status}}"]).out === "healthy", 60_000, 200);
    report("HEALTHCHECK", true, `healthy (the image's command: ${config.Healthcheck.Test.slice(1, 3).join(" ")} …, run every 2 s here)`);

    const user = { login_id: "dealer1", password, otp_email: "dana@dealer.example" };
    const client = new FormClient(overHttp(url));
    const signedIn = await signIn({ mailbox: smtpMailbox(smtp) }, { client, user, page: null });
    const mail = smtp.messages.find((m) => m.envelopeTo.includes(user.otp_email));
    const portal = await client.get("/");
    report("sign-in: password → OTP step, code mail on the host's SMTP server, portal", signedIn.answer.headers.location === "/" && portal.statusCode === 200 && portal.body.includes("Sign out"), `mail "${mail?.subject}" to ${mail?.envelopeTo.join(",")}; code step 303 → ${signedIn.answer.headers.location}; portal ${portal.statusCode}`);

    const diff = changed(name);
    const tmp = docker(["exec", name, "find", "/tmp", "-mindepth", "1"]).out;
    report("serve writes nothing outside /data and /tmp (docker diff)", diff === "", `${diff || "no change"}; /tmp holds: ${tmp || "nothing"}`);

    const stopStart = performance.now();
    docker(["stop", name]);
    const stopSeconds = (performance.now() - stopStart) / 1000;
    const exit = docker(["inspect", name, "--format", "{{.State.ExitCode}} {{.State.OOMKilled}}"]).out;
    const logs = docker(["logs", name]);
    const log = `${logs.out}\n${logs.err}`;
    report("SIGTERM stops it within --stop-timeout 30", exit.startsWith("0 ") && stopSeconds < 30, `docker stop took ${stopSeconds.toFixed(1)} s, exit code ${exit.split(" ")[0]}`);
    report("no EROFS/EACCES in the server's log", !/EROFS|EACCES/.test(log), `${log.split("\n").filter(Boolean).length} log lines`);

    // As compose runs it: on PostgreSQL (a schema of its own on the host's server), with Redis's limits.
    const pg = await postgresTestUrl("container");
    try {
      const shared = [...mounts, "-e", `FAMOS_DATABASE_URL=${pg.url}`, "-e", `FAMOS_REDIS_URL=${await redisTestUrl()}`];
      const pgMigrate = docker(["run", "--rm", ...readOnly, ...shared, image, "migrate"]);
      const pgAdd = docker(["run", "-i", "--rm", ...readOnly, ...shared, image, "user", "add", "dealer2", "--name", "Dan Dealer", "--partner", "40124", "--email", "dan@dealer.example"], `${password}\n`);
      docker(["run", "-d", "--name", `${name}-pg`, ...readOnly, ...hardened, ...shared, image]);
      await until("/readyz on PostgreSQL", async () => (await fetch(`${url}/readyz`)).ok, 60_000, 100);
      const pgUser = { login_id: "dealer2", password, otp_email: "dan@dealer.example" };
      const pgSignIn = await signIn({ mailbox: smtpMailbox(smtp) }, { client: new FormClient(overHttp(url)), user: pgUser, page: null });
      docker(["stop", `${name}-pg`]);
      const pgExit = docker(["inspect", `${name}-pg`, "--format", "{{.State.ExitCode}}"]).out;
      report("on PostgreSQL and Redis: migrate, user add, serve, sign-in, stop", pgMigrate.status === 0 && pgAdd.status === 0 && pgSignIn.answer.headers.location === "/" && pgExit === "0", `migrate exit ${pgMigrate.status}, user add exit ${pgAdd.status}, code step 303 → ${pgSignIn.answer.headers.location}, stop exit ${pgExit}`);
    } finally {
      docker(["rm", "-f", `${name}-pg`]);
      await pg.drop();
    }

    const inside = docker(["run", "--rm", ...readOnly, "--network", "none", "--entrypoint", "node", image, "-e", INSPECT_IMAGE]);
    const found = JSON.parse(inside.out || "{}") as { app: string[]; onPath: string[]; devShipped: string[]; sources: string[]; writable: string[]; addon: string[]; src: boolean };
    report("/app is the runtime tree only", found.app.join(" ") === "bin dist node_modules package-lock.json package.json" && !found.src && found.addon.join(" ") === "Release Release/better_sqlite3.node", `/app: ${found.app.join(" ")}; /src ${found.src ? "present" : "absent"}; better-sqlite3/build: ${found.addon.slice(0, 6).join(" ")}${found.addon.length > 6 ? ` … (${found.addon.length})` : ""}`);
    report("no compiler or build tool", found.onPath.length === 0, found.onPath.join(" ") || "none of gcc cc g++ c++ make python3 node-gyp git on PATH");
    report("no sources", found.sources.length === 0, found.sources.slice(0, 5).join(" ") || "no .ts/.c/.h outside node_modules");
    report("no dev dependencies", found.devShipped.length === 0, found.devShipped.slice(0, 8).join(" ") || "none of package-lock's dev packages");
    report("/app not writable by famos", found.writable.length === 0, found.writable.join(" ") || "none of /app, dist, node_modules");
  } finally {
    docker(["rm", "-f", name, `${name}-add`]);
    docker(["volume", "rm", volume]);
    await smtp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => {
    console.log(failed === 0 ? "container-check: all PASS" : `container-check: ${failed} FAIL`);
    process.exit(failed === 0 ? 0 : 1);
  },
  (error: unknown) => {
    console.log(`FAIL container-check stopped: ${String(error)}`);
    process.exit(1);
  },
);
