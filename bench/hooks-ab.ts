/**
 * The per-request cost of the security headers' and the form check's hooks, old against new, in one
 * process (issue 17, round 32): two bare Fastify apps, one registering the headers as `base`'s
 * security-headers.ts did (@fastify/helmet with global: false, its two hooks per request, and the
 * headers set from FAMOS's own hook) and an async preHandler that returns at once on a GET, the other
 * as this checkout's security-headers.ts does with a callback preHandler; each answers a 303 (and a
 * 200 page of 2 KB), through inject, in alternating batches. Main thread CPU per request, median of
 * the batches. The difference is what the lever saves per request; a sign-in is six requests.
 *
 *   node --import tsx bench/hooks-ab.ts --base /tmp/http-base [--batches 30] [--n 2000]
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import Fastify, { type FastifyInstance } from "fastify";
import { registerSecurityHeaders } from "../src/web/security-headers.ts";

const { values: argv } = parseArgs({ options: { base: { type: "string" }, batches: { type: "string", default: "30" }, n: { type: "string", default: "2000" } } });
if (!argv.base) throw new Error("--base DIR: a checkout of the code before the lever");
const old = (await import(join(resolve(argv.base), "src/web/security-headers.ts"))) as { registerSecurityHeaders: (app: FastifyInstance, options: object) => Promise<void> | void };

const OPTIONS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { "default-src": ["'none'"], "script-src": ["'self'"], "style-src": ["'self'"], "img-src": ["'self'", "data:"], "font-src": ["'self'"], "connect-src": ["'self'"], "form-action": ["'self'"], "frame-ancestors": ["'none'"], "base-uri": ["'none'"] },
  },
  hsts: false,
  frameguard: { action: "deny" as const },
  referrerPolicy: { policy: "same-origin" as const },
  crossOriginEmbedderPolicy: false,
};
const PAGE = Buffer.from("<!doctype html>" + "x".repeat(2048));

async function app(kind: "base" | "lever"): Promise<FastifyInstance> {
  const a = Fastify({ logger: false });
  if (kind === "base") {
    await old.registerSecurityHeaders(a, OPTIONS);
    a.addHook("preHandler", async (request) => {
      if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS" || request.is404) return;
    });
  } else {
    registerSecurityHeaders(a, OPTIONS);
    a.addHook("preHandler", (request, _reply, done) => {
      if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS" || request.is404) return done();
      done();
    });
  }
  a.get("/see", (_request, reply) => reply.code(303).header("location", "/otp").send());
  a.get("/page", (_request, reply) => reply.type("text/html; charset=utf-8").send(PAGE));
  await a.ready();
  return a;
}

const mainThreadNs = (): number => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]);
const apps = { base: await app("base"), lever: await app("lever") };
const n = Number(argv.n);
async function batch(a: FastifyInstance, url: string): Promise<number> {
  const c0 = mainThreadNs();
  for (let i = 0; i < n; i += 1) {
    await a.inject({ method: "GET", url });
    if (i % 50 === 0) await new Promise(setImmediate);
  }
  return (mainThreadNs() - c0) / 1e3 / n;
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
for (const url of ["/see", "/page"]) {
  for (const kind of ["base", "lever"] as const) await batch(apps[kind], url);
  const times = { base: [] as number[], lever: [] as number[] };
  for (let b = 0; b < Number(argv.batches); b += 1) {
    // Alternating, the order turned each time.
    const order = b % 2 === 0 ? (["base", "lever"] as const) : (["lever", "base"] as const);
    for (const kind of order) times[kind].push(await batch(apps[kind], url));
  }
  const [base, lever] = [median(times.base), median(times.lever)];
  console.log(`GET ${url}: base ${base.toFixed(2)} µs/request, lever ${lever.toFixed(2)} (lever ÷ base ${(lever / base).toFixed(3)}; ${(base - lever).toFixed(2)} µs saved per request, ${(6 * (base - lever)).toFixed(1)} per six-request sign-in)`);
}
await apps.base.close();
await apps.lever.close();
