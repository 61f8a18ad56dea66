import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.ts";

const unit = readFileSync(join(REPO_ROOT, "deploy/systemd/famos@.service"), "utf8");
const header = unit.split("\n").filter((line) => line.startsWith("#")).join("\n");

/** The unit's header offers settings in an environment file or a TOML file: either must start. */
describe("the systemd unit's settings", () => {
  it("does not require /etc/famos/famos.env, which a TOML-only install does not have", () => {
    // systemd refuses to start a unit whose EnvironmentFile= is missing, unless the path begins with "-".
    const files = [...unit.matchAll(/^EnvironmentFile=(.*)$/gm)].map((m) => m[1]);
    expect(files).toEqual(["-/etc/famos/famos.env"]);
  });

  it("its header says how to use the TOML file instead, through FAMOS_CONFIG in a drop-in", () => {
    expect(header).toMatch(/FAMOS_CONFIG=\/etc\/famos\/famos\.toml/);
    expect(header).toMatch(/systemctl edit famos@/);
    expect(header).not.toMatch(/--config/);
  });
});
