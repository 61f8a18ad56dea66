/**
 * The floor as a bench target (bench/lib/floor-server.ts): the product's flow, pages and mail with
 * nothing but HTTP, one argon2id verify and one mail behind them — what any server must spend on this
 * machine. Driven by the product's own scenario (./famos.ts), with the product's bench users.
 */
import { fileURLToPath } from "node:url";
import { freePort, ServerProcess } from "../lib/proc.ts";
import type { Target } from "../lib/target.ts";
import type { BenchUser } from "../lib/types.ts";
import { makeUsers } from "../lib/users.ts";
import { PRODUCT_USER_PREFIX, REPO_ROOT } from "./famos-target.ts";

const FLOOR_SERVER = fileURLToPath(new URL("../lib/floor-server.ts", import.meta.url));

export const FLOOR_NAME = "floor (bare Fastify + one argon2id verify + one mail, no storage)";

/** Starts the floor server for `users` (made by makeUsers with PRODUCT_USER_PREFIX) against the SMTP sink. */
export async function startFloor(options: { sinkPort: number; users: BenchUser[]; nodeFlags?: string[]; execPath?: string; readyTimeoutMs?: number }): Promise<ServerProcess> {
  const port = await freePort();
  return ServerProcess.start({
    name: "floor",
    script: FLOOR_SERVER,
    ...(options.execPath ? { execPath: options.execPath } : {}),
    args: [String(port), String(options.sinkPort), PRODUCT_USER_PREFIX, String(options.users.length)],
    cwd: REPO_ROOT,
    // Production mode and the product's V8 flag (package.json's start), so runtime settings are alike.
    env: { ...process.env, NODE_ENV: "production" },
    port,
    nodeFlags: ["--max-semi-space-size=4", ...(options.nodeFlags ?? [])],
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
  });
}

export const floorTarget: Target = {
  key: "floor",
  name: FLOOR_NAME,
  scenario: "bench/scenarios/famos.ts",
  verifiesPerFlow: 1,
  async prepare({ sinkPort, users: count, nodeFlags, execPath, readyTimeoutMs }) {
    const users = makeUsers(PRODUCT_USER_PREFIX, count);
    const server = await startFloor({ sinkPort, users, ...(nodeFlags ? { nodeFlags } : {}), ...(execPath ? { execPath } : {}), ...(readyTimeoutMs ? { readyTimeoutMs } : {}) });
    return {
      origin: `http://127.0.0.1:${server.port}`,
      server,
      users,
      notes: ["the product's pages, headers, cookies and code mail (captured in bench/lib/floor-pages/); users and sessions in memory; argon2id through the product's gate at its niceness; the mail sent after the 303"],
    };
  },
};
