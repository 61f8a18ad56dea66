import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { smtpMailbox } from "../support/mailbox.ts";
import { freePort } from "../support/nginx.ts";
import { REPO_ROOT } from "../support/server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";

/** The first line an SMTP server sends on 127.0.0.1:`port`. */
function smtpGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (!text.includes("\r\n")) return;
      socket.end("QUIT\r\n");
      resolve(text.slice(0, text.indexOf("\r\n")));
    });
    socket.on("error", reject);
  });
}

/** The unprivileged account the tree runs as (this test runs as root, as CI does). */
const NOBODY = 65534;

/** Every file under a folder with its modification time: what "nothing was written" is checked against. */
function snapshot(dir: string): Map<string, number> {
  const files = new Map<string, number>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      files.set(full, statSync(full).mtimeMs);
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return files;
}

/**
 * The tree the Dockerfile ships, built by the same script (deploy/runtime-tree.sh: launcher, dist/,
 * `npm ci --omit=dev`), made read-only (mode 0555 and below, as a read-only root file system) and run
 * as nobody in production mode: migrate, add a user, serve, and a full sign-in over HTTP with the code
 * from a real SMTP server.
 */
describe.skipIf(process.getuid?.() !== 0)("the runtime tree, read-only, as an unprivileged user", () => {
  let dir: string;
  let app: string;
  let data: string;
  let smtp: TestSmtpServer;
  let server: ChildProcess | null = null;
  let before: Map<string, number>;
  let env: NodeJS.ProcessEnv;

  const famos = (args: string[], input = "") =>
    execFileSync("/usr/bin/setpriv", ["--reuid", String(NOBODY), "--regid", String(NOBODY), "--clear-groups", "--", process.execPath, join(app, "bin/famos.js"), ...args], {
      cwd: data,
      env,
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "famos-runtime-"));
    chmodSync(dir, 0o755);
    app = join(dir, "app");
    data = join(dir, "data");
    // The same two steps as the Dockerfile's build stage (npm ci has run in this checkout).
    execFileSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: "pipe" });
    // The checkout's better-sqlite3 addon, built by its `npm ci` for this node, instead of a second
    // compile of SQLite (the Dockerfile compiles; .ci/node24 compiles for Node 24).
    execFileSync(join(REPO_ROOT, "deploy/runtime-tree.sh"), [app], { stdio: "pipe", env: { ...process.env, FAMOS_ADDON_FROM: REPO_ROOT } });
    execFileSync("chmod", ["-R", "a-w", app]);
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, NOBODY, NOBODY);
    // The secret as a container or systemd hands it over: a file only the service's user can read.
    const secretFile = join(data, "famos_secret");
    writeFileSync(secretFile, `${TEST_SECRET}\n`, { mode: 0o400 });
    chownSync(secretFile, NOBODY, NOBODY);
    before = snapshot(app);
    smtp = await startSmtpServer();
    const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FAMOS_") && name !== "NODE_ENV"));
    env = {
      ...base,
      HOME: data,
      NODE_ENV: "production",
      FAMOS_DATABASE_URL: `sqlite:${join(data, "famos.db")}`,
      FAMOS_SMTP_URL: smtp.url,
      FAMOS_SECRET_FILE: join(data, "famos_secret"),
      FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>",
      FAMOS_SUPPORT_EMAIL: "retailit@famos.test",
      FAMOS_HOST: "127.0.0.1",
      FAMOS_LOG_LEVEL: "warn",
    };
  }, 900_000); // building the native SQLite addon from source takes minutes on a busy 2-core machine

  afterAll(async () => {
    server?.kill("SIGKILL");
    await smtp?.stop();
    if (dir) {
      execFileSync("chmod", ["-R", "u+w", dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("holds no build tool and is not writable", () => {
    for (const tool of ["esbuild", "tsx", "typescript", "vitest"]) expect(existsSync(join(app, "node_modules", tool)), tool).toBe(false);
    expect(existsSync(join(app, "src"))).toBe(false);
    // Of better-sqlite3's build (node-gyp's makefiles, objects, sqlite3.a, a test extension), the addon only.
    expect(readdirSync(join(app, "node_modules/better-sqlite3/build"), { recursive: true }).sort()).toEqual(["Release", "Release/better_sqlite3.node"]);
    expect(existsSync(join(app, "node_modules/better-sqlite3/deps"))).toBe(false);
    expect(statSync(join(app, "dist/famos.mjs")).mode & 0o222).toBe(0);
    expect(statSync(app).mode & 0o777).toBe(0o555);
  });

  it("migrates, adds a user, serves and signs in end to end as nobody, writing nothing in the tree", async () => {
    expect(famos(["migrate"])).toBe("");
    famos(["user", "add", "dealer1", "--name", "Dana Dealer", "--partner", "40123", "--email", "dana@dealer.example"], "correct horse battery staple\n");

    const port = await freePort();
    // With the bounce listener (issue 15), whose packages the runtime tree lacked once (runtime-deps.test.ts).
    const bouncePort = await freePort();
    const child = spawn("/usr/bin/setpriv", ["--reuid", String(NOBODY), "--regid", String(NOBODY), "--clear-groups", "--pdeathsig", "TERM", "--", process.execPath, join(app, "bin/famos.js"), "serve"], {
      cwd: data,
      env: { ...env, FAMOS_PORT: String(port), FAMOS_PUBLIC_URL: `http://127.0.0.1:${port}`, FAMOS_BOUNCE_DOMAIN: "bounces.famos.test", FAMOS_BOUNCE_SMTP_PORT: String(bouncePort) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server = child;
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    await until("famos serve from the runtime tree", async () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${output}`);
      return (await fetch(`${url}/readyz`)).ok;
    }, 30_000, 50);

    expect(await smtpGreeting(bouncePort)).toMatch(/^220 /);

    const client = new FormClient(overHttp(url));
    const user = { login_id: "dealer1", password: "correct horse battery staple", otp_email: "dana@dealer.example" };
    const { answer } = await signIn({ mailbox: smtpMailbox(smtp) }, { client, user, page: null });
    expect(answer.headers.location).toBe("/");
    const portal = await client.get("/");
    expect(portal.statusCode).toBe(200);
    expect(portal.body).toContain("Quotation");
    expect(portal.body).toContain("Sign out");

    // The Dockerfile's HEALTHCHECK, exactly as written, against this server.
    const healthcheck = /^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"))?.[1];
    const [command, ...args] = JSON.parse(healthcheck!) as string[];
    expect(command).toBe("node");
    execFileSync("/usr/bin/setpriv", ["--reuid", String(NOBODY), "--regid", String(NOBODY), "--clear-groups", "--", process.execPath, ...args], {
      env: { ...env, FAMOS_PORT: String(port) },
      stdio: "pipe",
    });

    expect(snapshot(app)).toEqual(before);
    expect(output).not.toMatch(/EACCES|EROFS/);
  });
});
