import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isKnownName } from "../../src/config/known-settings.ts";
import { REPO_ROOT } from "../support/server-process.ts";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");
const SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze";

/** No container engine or systemd runs here: these keep the deployment files true to what is tested. */
describe("the deployment files", () => {
  it("compose's nginx site is the README's, with the compose services as upstreams", () => {
    const readme = /```nginx\n# \/etc\/nginx\/conf\.d\/famos\.conf\n([\s\S]*?)```/.exec(read("README.md"))?.[1];
    const site = read("deploy/nginx/famos.conf").split("\n").filter((line) => !line.startsWith("# ")).join("\n");
    expect(readme).toBeDefined();
    expect(site).toBe(readme!.replace("server 127.0.0.1:3001 max_fails=0;", "server famos1:3000 max_fails=0;").replace("server 127.0.0.1:3002 max_fails=0;", "server famos2:3000 max_fails=0;"));
  });

  it("name only settings FAMOS knows (a typo there would be ignored at start)", () => {
    for (const file of ["Dockerfile", "deploy/compose.yaml", "deploy/systemd/famos@.service"]) {
      const names = [...read(file).matchAll(/\bFAMOS_[A-Z0-9_]+/g)].map((m) => m[0]);
      expect(names.length, file).toBeGreaterThan(0);
      expect(names.filter((name) => !isKnownName(name)), file).toEqual([]);
    }
  });

  it("the image builds its tree with the tested script and runs it as a non-root user, read-only, with a health check", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^RUN npm run build && deploy\/runtime-tree\.sh \/app && chmod -R a-w \/app$/m);
    expect(dockerfile).toMatch(/^FROM .* AS build$/m);
    expect(dockerfile).toMatch(/^USER famos:famos$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(read("deploy/compose.yaml")).toMatch(/read_only: true/);
  });

  it("the Dockerfile builds with the builder's own frontend: no `# syntax=` image to fetch first", () => {
    // BuildKit pulls a `# syntax=docker/dockerfile:1` frontend from Docker Hub before reading a line;
    // in a closed network (a registry mirror for the base image only) that stopped the build with
    // "resolve image config for docker.io/docker/dockerfile:1 … no such host". Nothing here needs it.
    expect(read("Dockerfile")).not.toMatch(/^# *syntax *=/im);
  });

  it("the image's build context leaves out all git ignores: compose's secrets and certificate in deploy/ among it", () => {
    // `docker build`/`compose up --build` send the checkout (context ..): without these lines the
    // secret files compose's header makes (uid 10001, mode 600) are copied into the build stage by
    // `COPY . .`, or stop the build of an operator who is not root ("permission denied" on the context).
    const entries = (file: string) =>
      read(file)
        .split("\n")
        .map((line) => line.trim().replace(/\/$/, ""))
        .filter((line) => line !== "" && !line.startsWith("#"));
    const ignored = entries(".dockerignore");
    const covered = (path: string) => ignored.some((entry) => path === entry || path.startsWith(`${entry}/`));
    expect(entries(".gitignore").filter((path) => !covered(path))).toEqual([]);
    expect(read("deploy/compose.yaml")).toMatch(/^# {3}mkdir -p deploy\/secrets /m);
  });

  it("the image and the systemd unit start the server with two malloc arenas, as the bench measures it (MALLOC_ARENA_MAX=2)", () => {
    // glibc reads it before any JavaScript runs, so only what starts node can set it (bench/HISTORY.md, round 39).
    expect(read("Dockerfile")).toMatch(/^ENV [^\n]*(\\\n[^\n]*)*\bMALLOC_ARENA_MAX=2$/m);
    expect(read("deploy/systemd/famos@.service")).toMatch(/^Environment=.*\bMALLOC_ARENA_MAX=2\b/m);
    expect(read("bench/scenarios/famos-target.ts")).toMatch(/MALLOC_ARENA_MAX: process\.env\.MALLOC_ARENA_MAX \?\? "2"/);
  });

  it("compose's header makes each secret file readable by the container user that reads it, and by nobody else", () => {
    // Compose (not swarm) bind-mounts a secret file as it is on the host, owner and mode: famos
    // (uid 10001, the Dockerfile's) reads three, postgres (uid 999 in its Debian image) one.
    expect(read("Dockerfile")).toMatch(/useradd --system --uid 10001 /);
    const commands = read("deploy/compose.yaml")
      .split("\n")
      .filter((line) => line.startsWith("#   ") && !/docker compose/.test(line))
      .map((line) => line.slice(4).replace(/\bsudo /g, ""));
    const dir = mkdtempSync(join(tmpdir(), "famos-compose-secrets-"));
    chmodSync(dir, 0o755); // as a checkout is
    try {
      execFileSync("bash", ["-euc", commands.join("\n")], { cwd: dir, stdio: "pipe" });
      const readers: Record<string, string> = { famos_secret: "10001", database_url: "10001", smtp_url: "10001", postgres_password: "999" };
      for (const [secret, uid] of Object.entries(readers)) {
        const path = join(dir, "deploy/secrets", secret);
        const as = (who: string) => spawnSync("setpriv", [`--reuid=${who}`, `--regid=${who}`, "--clear-groups", "cat", path]).status;
        expect(as(uid), `${secret} as uid ${uid}`).toBe(0);
        expect(as("65534"), `${secret} as nobody`).not.toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the systemd unit is hardened and systemd accepts every option in it", () => {
    const unit = read("deploy/systemd/famos@.service");
    for (const option of ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "User=famos"]) {
      expect(unit).toContain(option);
    }
    if (!existsSync(SYSTEMD_ANALYZE)) return; // the option names are then checked by the lines above only
    // verify names an unknown or malformed option on standard error and still exits 0.
    const run = spawnSync(SYSTEMD_ANALYZE, ["verify", "--man=no", `${join(REPO_ROOT, "deploy/systemd")}/famos@3001.service`], { encoding: "utf8" });
    expect(run.stderr + run.stdout).toBe("");
  });
});
