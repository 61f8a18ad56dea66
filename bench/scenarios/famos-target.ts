/**
 * The product as a bench target, started the way an operator would, in production mode on SQLite:
 *
 *   famos migrate; famos user import users.csv; famos serve
 *   (migrate and import as `node --import tsx src/cli/main.ts …`; serve as `npm start` does, `node bin/famos.js serve`)
 *
 * with the request limit, the per-hour code cap, the resend wait and the lock threshold lifted through
 * their settings (one client address and a few hundred users sign in many times), and the SMTP sink as
 * the mail server. Users are imported with argon2id hashes at the product's parameters and a confirmed
 * OTP email `<login>@bench.test`, so the first sign-in goes straight to "OTP capture".
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hash } from "@node-rs/argon2";
import { ARGON2_PARAMS } from "../lib/measure.ts";
import { freePort, runCommand, ServerProcess } from "../lib/proc.ts";
import type { Target } from "../lib/target.ts";
import type { BenchUser } from "../lib/types.ts";
import { makeUsers } from "../lib/users.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const PRODUCT_MAIN = join(REPO_ROOT, "src/cli/main.ts");
export const PRODUCT_BIN = join(REPO_ROOT, "bin/famos.js");
export const PRODUCT_USER_PREFIX = "bench";

export function productAvailable(): boolean {
  return existsSync(PRODUCT_MAIN);
}

/** The settings the bench runs the product with (said in the output). */
export function productEnv(options: { port: number; sinkPort: number; dbPath: string; secret: string; databaseUrl?: string }): NodeJS.ProcessEnv {
  return {
    NODE_ENV: "production",
    FAMOS_SECRET: options.secret,
    FAMOS_SMTP_URL: `smtp://127.0.0.1:${options.sinkPort}?ignoreTLS=true`,
    FAMOS_MAIL_FROM: "FAMOS <no-reply@bench.test>",
    FAMOS_SUPPORT_EMAIL: "support@bench.test",
    FAMOS_DATABASE_URL: options.databaseUrl ?? `sqlite:${options.dbPath}`,
    FAMOS_HOST: "127.0.0.1",
    FAMOS_PORT: String(options.port),
    FAMOS_PUBLIC_URL: `http://127.0.0.1:${options.port}`,
    // Lifted for the bench: one client address, a few hundred users, many sign-ins each.
    FAMOS_RATE_LIMIT: "0",
    FAMOS_OTP_PER_HOUR: "0",
    FAMOS_OTP_RESEND_WAIT: "0s",
    FAMOS_LOCK_AFTER: "1000000",
    // As the Dockerfile and the systemd unit start it (glibc reads it before any JavaScript runs): two
    // malloc arenas, not one per thread (bench/HISTORY.md, the thirty-ninth round). A value given to the bench wins.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "2",
  };
}

export const LIFTED_LIMITS =
  "FAMOS_RATE_LIMIT=0 FAMOS_OTP_PER_HOUR=0 FAMOS_OTP_RESEND_WAIT=0s FAMOS_LOCK_AFTER=1000000 (request limit, hourly code cap, resend wait and lock lifted: one client address, a few hundred users signing in many times)";

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** users.csv for `famos user import`: argon2id hashes (distinct salts), confirmed OTP emails. */
export async function usersCsv(users: BenchUser[]): Promise<string> {
  const lines = ["login_id,full_name,partner_number,role,email,password_hash"];
  const hashes: string[] = new Array<string>(users.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < users.length) {
        const i = next++;
        hashes[i] = await hash((users[i] as BenchUser).password, ARGON2_PARAMS);
      }
    }),
  );
  users.forEach((u, i) => {
    const partner = String(1000 + (i % 50));
    lines.push([u.login, `Bench User ${i + 1}`, partner, "user", u.email, hashes[i] as string].map(csvField).join(","));
  });
  return `${lines.join("\r\n")}\r\n`;
}

/** The product on PostgreSQL (a schema of its own on the local server, dropped by `stop`), else SQLite. */
function productTarget(postgres: string | null): Target {
  return {
  key: postgres ? "product-pg" : "product",
  name: postgres ? "FAMOS 2FA (product, PostgreSQL)" : "FAMOS 2FA (product)",
  scenario: "bench/scenarios/famos.ts",
  verifiesPerFlow: 1,
  async prepare({ sinkPort, users: count, minUsers, workDir, nodeFlags, execPath, readyTimeoutMs }) {
    const port = await freePort();
    const dbPath = join(workDir, "famos.db");
    const schema = `bench_${randomBytes(4).toString("hex")}`;
    const databaseUrl = postgres ? `${postgres}?schema=${schema}` : undefined;
    const env = { ...process.env, ...productEnv({ port, sinkPort, dbPath, secret: randomBytes(32).toString("hex"), ...(databaseUrl ? { databaseUrl } : {}) }) };
    const cli = (args: string[], input?: string) =>
      runCommand(process.execPath, ["--import", "tsx", PRODUCT_MAIN, ...args], { cwd: REPO_ROOT, env, timeoutMs: 180_000, ...(input ? { input } : {}) });
    let users = makeUsers(PRODUCT_USER_PREFIX, count);
    const notes = [`production mode on ${postgres ? "PostgreSQL" : "SQLite"}; ${LIFTED_LIMITS}; MALLOC_ARENA_MAX=${env.MALLOC_ARENA_MAX ?? "unset"} (as the Dockerfile and the systemd unit)`];
    const csvPath = join(workDir, "users.csv");
    await writeFile(csvPath, await usersCsv(users));
    // `npm run build` first: in production mode bin/famos.js runs dist/ as it is and never rebuilds it.
    await runCommand(process.execPath, [join(REPO_ROOT, "scripts/build.js")], { cwd: REPO_ROOT, env: process.env, timeoutMs: 120_000 });
    await cli(["migrate"]);
    try {
      await cli(["user", "import", csvPath]);
    } catch (error) {
      // Until `famos user import` exists: the fewest users the run needs, one `famos user add` each.
      if (!(error instanceof Error && /not available/i.test(error.message))) throw error;
      users = users.slice(0, Math.min(count, minUsers));
      let next = 0;
      await Promise.all(
        Array.from({ length: 2 }, async () => {
          while (next < users.length) {
            const u = users[next++] as BenchUser;
            await cli(["user", "add", u.login, "--name", `Bench ${u.login}`, "--partner", "1001", "--email", u.email], `${u.password}\n`);
          }
        }),
      );
      notes.push(`\`famos user import\` not available: ${users.length} users added with \`famos user add\` instead`);
    }
    const server = await ServerProcess.start({
      name: "famos",
      // As `npm start` runs it: the compiled build, without a TypeScript loader in the server.
      script: PRODUCT_BIN,
      ...(execPath ? { execPath } : {}),
      typescript: false,
      args: ["serve"],
      cwd: REPO_ROOT,
      env,
      port,
      // The V8 flag `npm start` passes (see package.json).
      nodeFlags: ["--max-semi-space-size=4", ...(nodeFlags ?? [])],
      readyTimeoutMs: readyTimeoutMs ?? 60_000,
    });
    if (postgres) {
      // The schema goes with the server.
      const stop = server.stop.bind(server);
      server.stop = async () => {
        await stop();
        const pg = (await import("pg")).default;
        const client = new pg.Client({ connectionString: postgres });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => client.end());
      };
    }
    return {
      origin: `http://127.0.0.1:${port}`,
      server,
      users,
      notes,
    };
  },
  };
}

export const famosTarget: Target = productTarget(null);
/** The same product on PostgreSQL, for the CPU per flow against SQLite (issue 17). */
export const famosPgTarget = (url: string): Target => productTarget(url);
