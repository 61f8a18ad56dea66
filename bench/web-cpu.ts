/**
 * The web layer's own CPU per request (issue 17): the same page asked for again and again through
 * Fastify's inject, so what is measured is the HTTP layer (hooks, cookies, CSRF, headers, the page's
 * rendering, logging) and the few reads of a session, without a password hash or a mail.
 *
 *   node --import tsx bench/web-cpu.ts [--n 3000] [--log]     (--log: pino at info to /dev/null, as `famos serve` logs; --only PATH; --sessions: the signed-in user's sessions, 20)
 */
import { openSync, readFileSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import pino from "pino";
import { buildApp } from "../src/web/app.ts";
import { addUser, createTestApp } from "../test/support/app.ts";
import { FormClient, signIn } from "../test/support/client.ts";

const { values: argv } = parseArgs({ options: { n: { type: "string", default: "3000" }, log: { type: "boolean", default: false }, only: { type: "string" }, sessions: { type: "string", default: "20" } } });
const n = Number(argv.n);
const t = await createTestApp({ env: { FAMOS_OTP_PER_HOUR: "0", FAMOS_OTP_RESEND_WAIT: "0s", FAMOS_LOCK_AFTER: "1000000" } });
/** As `famos serve` logs (its pino options, lines handed over in batches), to /dev/null. */
function serveLikeLogger() {
  const fd = openSync("/dev/null", "w");
  let pending = "";
  const destination = {
    write(line: string) {
      pending += line;
      if (pending.length < 64 * 1024) return;
      writeSync(fd, pending);
      pending = "";
    },
  };
  return pino({ level: "info", redact: { paths: ["req.headers.cookie", "req.headers.authorization", 'res.headers["set-cookie"]'], censor: "[redacted]" } }, destination);
}
const app = argv.log ? await buildApp({ deps: t.deps, store: t.services.store, loggerInstance: serveLikeLogger() }) : t.app;
await app.ready();
const user = await addUser(t.deps, { loginId: "web", email: "web@bench.test" });
// app-cpu.ts signs each of its users in about twenty times (the clock stands still, so none ends):
// its last Profile pages list that many sessions.
for (let i = 1; i < Number(argv.sessions); i += 1) await signIn({ ...t, app }, { user, client: new FormClient(app, "10.1.0.1"), page: null });
const full = new FormClient(app, "10.1.0.1");
await signIn({ ...t, app }, { user, client: full });
const half = new FormClient(app, "10.1.0.2");
await signIn({ ...t, app }, { user, client: half, until: "otp" });

const mainThreadNs = (): number => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]);
async function measure(name: string, ask: () => Promise<unknown>): Promise<void> {
  if (argv.only && !name.includes(argv.only)) return;
  // inject over a synchronous database answers without the event loop ever turning: without a turn per
  // request the responses' immediates would pile up (and the GC with them) until the end of the run.
  const step = async () => {
    await ask();
    await new Promise(setImmediate);
  };
  for (let i = 0; i < Math.min(1000, n); i += 1) await step();
  const results: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    const c0 = mainThreadNs();
    for (let i = 0; i < n; i += 1) await step();
    results.push((mainThreadNs() - c0) / 1e3 / n);
  }
  console.log(`${name.padEnd(22)} main thread CPU ${results.map((r) => r.toFixed(0).padStart(4)).join(" ")} µs/request (min ${Math.min(...results).toFixed(0)})`);
}
await measure("GET /healthz", () => app.inject({ method: "GET", url: "/healthz", remoteAddress: "10.1.0.3" }));
await measure("GET /login (new)", () => new FormClient(app, "10.1.0.3").get("/login"));
await measure("GET /otp", () => half.get("/otp"));
await measure("GET /profile", () => full.get("/profile"));
await app.close();
await t.close();
