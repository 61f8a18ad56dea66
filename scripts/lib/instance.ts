import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { openStore } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import type { Database } from "../../src/store/schema.ts";
import { decodeSecret } from "../../src/config/secret.ts";
import { deriveKeys, type Keys } from "../../src/platform/keys.ts";

export interface Instance {
  url: string;
  /** Standard error of the server so far (its log). */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real FAMOS (`famos serve` in a child process) on a fresh SQLite database in a temporary
 * directory, listening on a free loopback port. `prepare` fills the database before it starts, given
 * the keys the instance derives from its FAMOS_SECRET.
 */
export async function startInstance(env: Record<string, string>, prepare?: (db: Kysely<Database>, keys: Keys) => Promise<void>): Promise<Instance> {
  const secret = env.FAMOS_SECRET ?? randomBytes(32).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "famos-instance-"));
  const databaseUrl = `sqlite:${join(dir, "famos.db")}`;
  const store = openStore(databaseUrl);
  await migrateToLatest(store);
  // The instance's keys: an account's row keeps its login ID's digest (users.login_digest).
  await prepare?.(store.db, deriveKeys(decodeSecret(secret)!));
  await store.close();

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = "";
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      FAMOS_HOST: "127.0.0.1",
      FAMOS_PORT: String(port),
      FAMOS_DATABASE_URL: databaseUrl,
      FAMOS_SECRET: secret,
      FAMOS_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`famos serve exited with ${child.exitCode}:\n${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`famos serve did not answer within 30 s:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    log: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A browser's state for the forms of one FAMOS: the CSRF cookie and a token that goes with it. */
export async function formSession(url: string): Promise<{ cookie: string; csrf: string }> {
  const page = await fetch(`${url}/login`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error("no CSRF token on /login");
  return { cookie, csrf };
}
