/** The peer as a bench target: seeded in a separate process, then served by server.ts. */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, runCommand, ServerProcess } from "../../lib/proc.ts";
import type { Target } from "../../lib/target.ts";
import { makeUsers } from "../../lib/users.ts";
import { PEER_USER_PREFIX } from "./seed.ts";

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export const peerTarget: Target = {
  key: "peer",
  name: "better-auth (peer)",
  scenario: "bench/peer/better-auth/scenario.ts",
  verifiesPerFlow: 1,
  async prepare({ sinkPort, users, workDir, nodeFlags }) {
    const dbPath = join(workDir, "peer.db");
    await runCommand(process.execPath, ["--import", "tsx", here("./seed.ts"), dbPath, String(users)]);
    const port = await freePort();
    const server = await ServerProcess.start({
      name: "better-auth",
      script: here("./server.ts"),
      port,
      nodeFlags,
      env: {
        ...process.env,
        NODE_ENV: "production",
        BETTER_AUTH_TELEMETRY: "0",
        PEER_DB: dbPath,
        PEER_PORT: String(port),
        PEER_SMTP_PORT: String(sinkPort),
        PEER_SECRET: randomBytes(32).toString("hex"),
      },
    });
    const pkg = JSON.parse(await readFile(here("../../../node_modules/better-auth/package.json"), "utf8")) as { version: string };
    const version = pkg.version;
    return {
      origin: `http://127.0.0.1:${port}`,
      server,
      users: makeUsers(PEER_USER_PREFIX, users, true),
      notes: [`better-auth ${version}; rate limits off (rateLimit.enabled=false); OTP mailed through a pooled nodemailer transport`],
    };
  },
};
