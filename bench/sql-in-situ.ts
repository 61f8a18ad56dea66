/**
 * What one sign-in's SQL statements cost where they run, against what the same statements cost when
 * they run again at once or in a tight loop (issue 17). In one process: the application over a SQLite
 * file with checkpoints on their own thread (as `famos serve`), warmed by `--warmup` complete sign-ins,
 * then one more sign-in whose statements are each timed in place, run once more right after (reads
 * only), and run `--loop` times in a row (reads only; an `update … returning` is timed in place only).
 *
 *   node --import tsx bench/sql-in-situ.ts [--warmup 1500] [--loop 3000]
 *
 * On this project's 2-core machine (2026-12-02) a statement cost 2–25× in place what it cost in a
 * loop: the lookup of the session with its user 40–140 µs against 5 µs. SQLite's code and pages are
 * out of the CPU's caches by the time a request's JavaScript reaches its next statement, so on this
 * machine the number of statements (and commits) a sign-in makes weighs more than what each does.
 */
import { parseArgs } from "node:util";
import SQLite from "better-sqlite3";
import { addUser, createTestApp } from "../test/support/app.ts";
import { FormClient, signIn } from "../test/support/client.ts";

const { values: argv } = parseArgs({ options: { warmup: { type: "string", default: "1500" }, loop: { type: "string", default: "3000" } } });

type Call = (...args: unknown[]) => unknown;
interface Seen {
  statement: SQLite.Statement;
  run: Call;
  args: unknown[];
  inPlaceUs: number;
  againUs: number | null;
}

const probe = new SQLite(":memory:");
const proto = Object.getPrototypeOf(probe.prepare("select 1")) as Record<string, Call>;
probe.close();
let seen: Seen[] | null = null;
for (const name of ["run", "get", "all"]) {
  const original = proto[name]!;
  proto[name] = function (this: SQLite.Statement, ...args: unknown[]) {
    const t0 = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      if (seen) {
        const inPlaceUs = Number(process.hrtime.bigint() - t0) / 1e3;
        let againUs: number | null = null;
        if (this.reader && !/^\s*(update|insert|delete)/i.test(this.source)) {
          const t1 = process.hrtime.bigint();
          original.apply(this, args);
          againUs = Number(process.hrtime.bigint() - t1) / 1e3;
        }
        seen.push({ statement: this, run: original, args, inPlaceUs, againUs });
      }
    }
  };
}

const t = await createTestApp({ env: { FAMOS_OTP_PER_HOUR: "0", FAMOS_OTP_RESEND_WAIT: "0s", FAMOS_LOCK_AFTER: "1000000" }, backgroundCheckpoints: true });
const users: Awaited<ReturnType<typeof addUser>>[] = [];
for (let i = 0; i < 64; i += 1) users.push(await addUser(t.deps, { loginId: `bench${i}`, email: `bench${i}@bench.test` }));
for (let i = 0; i < Number(argv.warmup); i += 1) await signIn(t, { user: users[i % users.length]!, client: new FormClient(t.app, "10.1.0.1") });

seen = [];
await signIn(t, { user: users[5]!, client: new FormClient(t.app, "10.1.0.1") });
const flow = seen;
seen = null;

const fmt = (us: number | null) => (us === null ? "" : us.toFixed(1)).padStart(8);
console.log(`${"in place".padStart(8)} ${"again".padStart(8)} ${"in loop".padStart(8)}  µs   statement (one sign-in, after ${argv.warmup} others)`);
let inPlace = 0;
let looped = 0;
let readsInPlace = 0;
for (const s of flow) {
  inPlace += s.inPlaceUs;
  let loopUs: number | null = null;
  if (s.againUs !== null) {
    const n = Number(argv.loop);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i += 1) s.run.apply(s.statement, s.args);
    loopUs = Number(process.hrtime.bigint() - t0) / 1e3 / n;
    looped += loopUs;
    readsInPlace += s.inPlaceUs;
  }
  console.log(`${fmt(s.inPlaceUs)} ${fmt(s.againUs)} ${fmt(loopUs)}      ${s.statement.source.replace(/\s+/g, " ").slice(0, 100)}`);
}
console.log(`${flow.length} statements, ${(inPlace / 1000).toFixed(2)} ms in place; the reads among them ${(readsInPlace / 1000).toFixed(2)} ms in place, ${(looped / 1000).toFixed(2)} ms in a loop`);
await t.close();
