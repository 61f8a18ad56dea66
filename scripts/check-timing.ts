/**
 * `npm run check:timing`: SPEC item 1 says a wrong login ID and a wrong password give the same answer
 * *in the same time*, and no refusal may tell whether an account exists. A pause is told (issue 10.3:
 * which pause applies and until when) and answered at once without a verification (SPEC "Locks": a
 * refused attempt does not sleep), so it is compared with the pause of a login ID that no account has:
 * the same answer in the same time. This measures the pairs against a real listening FAMOS: at least
 * 500 sign-in attempts of each kind, interleaved in random order, one at a time, and prints the
 * medians. It exits 1 when, within a pair, the slower median is more than 10% above the faster.
 *
 * Each attempt comes from its own client address (X-Forwarded-For through a trusted proxy) and each
 * wrong password is for an account of its own, so no address or account lock turns a "wrong
 * password" sample into a "locked" one. The locked account and the locked unknown login ID are locked with SPEC's 5 wrong passwords,
 * and FAMOS_LOCK_BASE is set long enough for the lock to outlast the run (the code path is the same).
 *
 * The third pair is "Forgot password?" step 1 with FAMOS_PASSWORD_RESET=self: a login ID with an
 * enrolled account (a code is made and mailed) and one with none (nothing is). Each reset is for an
 * account of its own, with an address of its own, so no hourly cap or wait turns a sample into a
 * refused one; the mail stays in the outbox (no SMTP server is set).
 *
 * Options: SAMPLES=<n> (default 500 per kind).
 */
import { performance } from "node:perf_hooks";
import { hashPassword } from "../src/password/hash.ts";
import { cryptoRandom } from "../src/platform/random.ts";
import { userRow } from "../src/users/users.ts";
import { formSession, startInstance } from "./lib/instance.ts";

const SAMPLES = Number(process.env.SAMPLES ?? 500);
const WARM_UP = 20;
const TOLERANCE = 0.1;
const PASSWORD = "the right password for timing";
const KINDS = ["unknown login ID", "wrong password", "locked account", "locked unknown", "reset for an account", "reset for nobody"] as const;
type Kind = (typeof KINDS)[number];
/** Refusals that must not be told apart, each pair by body and by time. */
const PAIRS: [Kind, Kind][] = [
  ["unknown login ID", "wrong password"],
  ["locked account", "locked unknown"],
  ["reset for an account", "reset for nobody"],
];
const SIGN_IN_KINDS: readonly Kind[] = ["unknown login ID", "wrong password", "locked account", "locked unknown"];
const numbered = (prefix: string, i: number) => `${prefix}-${String(i).padStart(5, "0")}`;

async function main(): Promise<number> {
  if (!Number.isInteger(SAMPLES) || SAMPLES < 500) throw new Error("SAMPLES must be a whole number of at least 500");
  const accounts = SAMPLES + WARM_UP;
  process.stdout.write(`Preparing ${accounts} accounts to sign in to, ${accounts} to reset, and a locked one…\n`);
  const hash = await hashPassword(PASSWORD);
  const instance = await startInstance(
    { FAMOS_RATE_LIMIT: "0", FAMOS_TRUST_PROXY: "127.0.0.1", FAMOS_LOCK_BASE: "6h", FAMOS_LOCK_MAX: "6h", FAMOS_PASSWORD_RESET: "self" },
    async (db, keys) => {
      const now = Date.now();
      const account = (loginId: string, otpEmail: string) => userRow(keys, cryptoRandom, now, { loginId, fullName: "Timing Test", partnerNumber: "1", role: "user", passwordHash: hash, otpEmail });
      const rows = Array.from({ length: accounts }, (_, i) => account(numbered("timing", i), `timing${i}@dealer.example`));
      rows.push(...Array.from({ length: accounts }, (_, i) => account(numbered("reset", i), `reset${i}@dealer.example`)));
      rows.push(userRow(keys, cryptoRandom, now, { loginId: "timing-locked", fullName: "Timing Test", partnerNumber: "1", role: "user", passwordHash: hash, otpEmail: "locked@dealer.example" }));
      for (let i = 0; i < rows.length; i += 200) await db.insertInto("users").values(rows.slice(i, i + 200)).execute();
    },
  );
  try {
    const form = await formSession(instance.url);
    let address = 0;
    /** One form posted from an address of its own: its time, status, and body (values blanked; with the shape of any cookie set). */
    const post = async (path: string, fields: Record<string, string>): Promise<{ ms: number; status: number; body: string }> => {
      address += 1;
      const body = new URLSearchParams({ ...fields, _csrf: form.csrf }).toString();
      const headers = {
        "content-type": "application/x-www-form-urlencoded",
        cookie: form.cookie,
        "x-forwarded-for": `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}`,
      };
      const started = performance.now();
      const response = await fetch(`${instance.url}${path}`, { method: "POST", body, headers, redirect: "manual" });
      const text = await response.text();
      const ms = performance.now() - started;
      const cookies = response.headers.getSetCookie().map((cookie) => cookie.replace(/=[^;]*/, "=VALUE"));
      return { ms, status: response.status, body: [text.replace(/value="[^"]*"/g, ""), ...cookies].join("\n") };
    };
    const attempt = (loginId: string, password: string) => post("/login", { loginId, password });

    for (let i = 0; i < 5; i += 1) await attempt("timing-locked", `wrong ${i}`);
    for (let i = 0; i < 5; i += 1) await attempt("timing-nobody-locked", `wrong ${i}`);

    const times = Object.fromEntries(KINDS.map((kind) => [kind, [] as number[]])) as Record<Kind, number[]>;
    const bodies = Object.fromEntries(KINDS.map((kind) => [kind, new Set<string>()])) as Record<Kind, Set<string>>;
    for (let i = 0; i < accounts; i += 1) {
      const order: Kind[] = [...KINDS];
      for (let j = order.length - 1; j > 0; j -= 1) {
        const k = cryptoRandom.int(j + 1);
        [order[j], order[k]] = [order[k]!, order[j]!];
      }
      for (const kind of order) {
        const loginId = {
          "unknown login ID": numbered("nobody", i),
          "wrong password": numbered("timing", i),
          "locked account": "timing-locked",
          "locked unknown": "timing-nobody-locked",
          "reset for an account": numbered("reset", i),
          "reset for nobody": numbered("nobody-reset", i),
        }[kind];
        const signIn = SIGN_IN_KINDS.includes(kind);
        const result = signIn ? await attempt(loginId, kind === "locked account" ? PASSWORD : "not the right password") : await post("/forgot-password", { loginId });
        const expected = signIn ? 401 : 303;
        if (result.status !== expected) throw new Error(`${kind}: expected ${expected}, got ${result.status}`);
        if (i >= WARM_UP) {
          times[kind].push(result.ms);
          bodies[kind].add(result.body.replace(loginId, "LOGIN"));
        }
      }
      if ((i + 1) % 100 === 0) process.stdout.write(`  ${i + 1}/${accounts} rounds\n`);
    }

    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    };
    const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)]!;
    process.stdout.write(`\nSign-in refusals and password resets against ${instance.url} (${SAMPLES} samples each, interleaved):\n`);
    const medians = KINDS.map((kind) => median(times[kind]));
    for (const [i, kind] of KINDS.entries()) {
      process.stdout.write(`  ${kind.padEnd(20)} median ${medians[i]!.toFixed(2)} ms   p90 ${p90(times[kind]).toFixed(2)} ms   n=${times[kind].length}\n`);
    }
    let failed = false;
    // The resets for an account did their work (after their answers): their codes are in the outbox,
    // read through the development mailbox (its newest 100; the last reset's may still be on its way).
    const mails = (await (await fetch(`${instance.url}/dev/mailbox.json`)).json()) as Array<{ to: string }>;
    const mailed = mails.filter((mail) => /^reset\d+@dealer\.example$/.test(mail.to)).length;
    process.stdout.write(`  reset codes among the newest ${mails.length} mails in the outbox: ${mailed}\n`);
    if (mailed < Math.min(100, accounts) - 1) {
      process.stdout.write("FAIL: the resets for an account did not mail their codes, so their times measure nothing\n");
      failed = true;
    }
    for (const [a, b] of PAIRS) {
      const pair = [median(times[a]), median(times[b])];
      const spread = Math.max(...pair) / Math.min(...pair) - 1;
      const distinct = new Set([...bodies[a], ...bodies[b]]).size;
      process.stdout.write(`  ${a} / ${b}: spread of medians ${(spread * 100).toFixed(1)}% (limit ${TOLERANCE * 100}%), distinct bodies (CSRF token, typed login ID and cookie values blanked): ${distinct}\n`);
      if (distinct !== 1) {
        process.stdout.write(`FAIL: ${a} and ${b} do not give the same body\n`);
        failed = true;
      }
      if (spread > TOLERANCE) {
        process.stdout.write(`FAIL: the response times tell ${a} and ${b} apart\n`);
        failed = true;
      }
    }
    if (failed) return 1;
    process.stdout.write("OK: within each pair, one body and medians within 10% of each other\n");
    return 0;
  } finally {
    await instance.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`check:timing failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
