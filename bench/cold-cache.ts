/**
 * What one SQL statement of the sign-in costs depending on what the core did just before (issue 17):
 * the OTP capture page's current-code query (codes ⋈ outbox, by flow) run back to back, after the event
 * loop idled 2 ms, while two argon2id verifies run, and right after an argon2id verify (whose 19 MiB
 * have just gone through the caches). The statement's instructions are the same each time; what changes
 * is how cold the caches are. A sign-in's requests all arrive on an idle or hash-flushed core, which is
 * why its event loop costs milliseconds, not the microseconds its statements take back to back.
 *
 *   node --import tsx bench/cold-cache.ts [--rounds 2]
 */
import { parseArgs } from "node:util";
import { verify } from "@node-rs/argon2";
import SQLite from "better-sqlite3";
import { hashPassword } from "../src/password/hash.ts";
import { addUser, createTestApp } from "../test/support/app.ts";
import { FormClient, signIn } from "../test/support/client.ts";

const { values: argv } = parseArgs({ options: { rounds: { type: "string", default: "2" } } });
const t = await createTestApp({ env: { FAMOS_OTP_PER_HOUR: "0", FAMOS_OTP_RESEND_WAIT: "0s", FAMOS_LOCK_AFTER: "1000000" } });
const users = [];
for (let i = 0; i < 32; i += 1) users.push(await addUser(t.deps, { loginId: `cold${i}`, email: `cold${i}@bench.test` }));
for (let i = 0; i < 300; i += 1) await signIn(t, { user: users[i % users.length]!, client: new FormClient(t.app, "10.1.0.1") });

const db = new SQLite(t.config.databaseUrl.slice("sqlite:".length));
const flows = db.prepare("select flow_id from codes order by created_at desc limit 100").all().map((r) => (r as { flow_id: string }).flow_id);
// The statement src/otp/codes.ts's currentCode compiles (Kysely's SQL for SQLite).
const statement = db.prepare(`select "codes"."id", "codes"."created_at", "codes"."expires_at", "codes"."tries", "codes"."voided_at", "codes"."void_reason", "codes"."consumed_at", "codes"."email", "outbox"."state" as "mail_state", "outbox"."attempts" as "mail_attempts", "outbox"."bounce_kind" as "mail_bounce" from "codes" left join "outbox" on "outbox"."id" = "codes"."outbox_id" where "codes"."flow_id" = ? order by "codes"."created_at" desc, case when codes.voided_at is null then 0 else 1 end limit 1`);
const stored = await hashPassword("cold cache");
let hashing = false;
async function hashLoop(): Promise<void> {
  while (hashing) await verify(stored, "cold cache");
}

async function timed(before: () => Promise<unknown>): Promise<number> {
  let ns = 0n;
  for (let k = 0; k < 2; k += 1) {
    for (const flow of flows) {
      await before();
      const start = process.hrtime.bigint();
      statement.all(flow);
      ns += process.hrtime.bigint() - start;
    }
  }
  return Number(ns) / 1e3 / (2 * flows.length);
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const idle = () => new Promise((resolve) => setTimeout(resolve, 2));
for (let round = 1; round <= Number(argv.rounds); round += 1) {
  const warm = await timed(nextTurn);
  const afterIdle = await timed(idle);
  hashing = true;
  const background = [hashLoop(), hashLoop()];
  const idleHashing = await timed(idle);
  hashing = false;
  await Promise.all(background);
  const afterHash = await timed(() => verify(stored, "cold cache"));
  console.log(
    `round ${round}: back to back ${warm.toFixed(1)} µs; after 2 ms idle ${afterIdle.toFixed(1)} µs (${(afterIdle / warm).toFixed(1)}×); ` +
      `after 2 ms idle with two verifies running ${idleHashing.toFixed(1)} µs (${(idleHashing / warm).toFixed(1)}×); ` +
      `right after a verify ${afterHash.toFixed(1)} µs (${(afterHash / warm).toFixed(1)}×)`,
  );
}
db.close();
await t.close();
