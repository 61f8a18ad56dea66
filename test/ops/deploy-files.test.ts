import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
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
