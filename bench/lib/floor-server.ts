/**
 * The floor: the cheapest server that still does what bench/scenarios/famos.ts asks of the product, so
 * that run.ts can say what any server must spend on this machine for one complete sign-in — HTTP, one
 * argon2id verify, one mail — and how far the product is from it (issue 17). No storage, no audit, no
 * rate limits, no templates: a bare Fastify 5 app without logger or plugins, users and sessions in Maps.
 *
 *   node --import tsx bench/lib/floor-server.ts <port> <smtp port> <user prefix> <user count>
 *
 * Started by ServerProcess (probe preloaded) like the product, so its CPU is measured the same way.
 * What it keeps of the product, because any server doing this job must:
 *  - the same pages, bytes for bytes (captured from the product into floor-pages/, with a fixed CSRF
 *    token; only the profile's login ID changes), the same response headers, the same cookies;
 *  - argon2id at the product's parameters (src/password/hash.ts), at most one per core at once (the
 *    product's gate, and the raw argon2id figure's concurrency), on pool threads lowered to the
 *    product's niceness (hash-priority.ts) so that the event loop gets a core when it has work;
 *  - a 6-digit code per sign-in, an unguessable session id, rotated when the code is confirmed;
 *  - the product's code mail (floor-pages/code-mail.eml: same size, headers and MIME shape) sent as one
 *    raw message through a nodemailer pool like the product's, handed to it as the product hands its
 *    own (src/mail/raw-handoff.ts, not sendMail), after the 303 is on its way.
 * Any other request gets a 404 (no /metrics: run.ts and flow-cpu.ts do without).
 */
import { randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { verify } from "@node-rs/argon2";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { createRequire } from "node:module";
import type * as Nodemailer from "nodemailer";
import { Gate, HASH_CONCURRENCY, hashPassword } from "../../src/password/hash.ts";
import { lowerHashingPriority } from "../../src/password/hash-priority.ts";
import { rawHandoff } from "../../src/mail/raw-handoff.ts";
import { makeUsers } from "./users.ts";

const [port, smtpPort, prefix, count] = process.argv.slice(2);
if (!port || !smtpPort || !prefix || !count) throw new Error("usage: floor-server.ts <port> <smtp port> <user prefix> <user count>");

const page = (name: string) => readFileSync(new URL(`./floor-pages/${name}`, import.meta.url), "utf8");
const LOGIN_PAGE = page("login.html");
const OTP_PAGE = page("otp.html");
const [PROFILE_HEAD, PROFILE_MIDDLE, PROFILE_TAIL] = page("profile.html").split("{{login}}") as [string, string, string];
const MAIL = page("code-mail.eml");
const FROM = "no-reply@bench.test";

// The product's response headers (helmet's and its own), once: what any page of it carries.
const HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';connect-src 'self';form-action 'self' http://127.0.0.1:*;frame-ancestors 'none';base-uri 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "referrer-policy": "same-origin",
  "x-content-type-options": "nosniff",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-frame-options": "DENY",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0",
};
const HTML = "text/html; charset=utf-8";
const CSRF_COOKIE = "famos_csrf=FLOOR.fixed-csrf-cookie-of-the-products-length-for-the-floor-server-; Path=/; HttpOnly; SameSite=Lax";

// Users with hashes made now, through the product's own hashing function (its parameters, its gate).
const users = new Map<string, { login: string; email: string; hash: string }>();
await Promise.all(
  makeUsers(prefix, Number(count)).map(async (u) => {
    users.set(u.login, { login: u.login, email: u.email, hash: await hashPassword(u.password) });
  }),
);
await lowerHashingPriority();
const argon2Gate = new Gate(HASH_CONCURRENCY);

interface Session {
  login: string;
  code: string;
  confirmed: boolean;
}
const sessions = new Map<string, Session>();

// Required, as the product does (src/mail/transport.ts): nodemailer ships two builds, and raw-handoff.ts knows the pool of the CommonJS one.
const nodemailer = createRequire(import.meta.url)("nodemailer") as typeof Nodemailer;
const transport = nodemailer.createTransport({
  host: "127.0.0.1",
  port: Number(smtpPort),
  ignoreTLS: true,
  pool: true,
  maxConnections: 4,
  maxMessages: 500,
} as never);
// The product's own handoff to the pool (issue 17's thirty-third round): the floor spends no more on a mail than it.
const handoff = rawHandoff(transport)!;

function sendCode(login: string, email: string, code: string): void {
  const messageId = `<${randomBytes(16).toString("base64url")}@bench.test>`;
  const raw = MAIL.replaceAll("{{login}}", login)
    .replaceAll("{{code}}", code)
    .replace("{{messageId}}", messageId)
    .replace("{{date}}", new Date().toUTCString().replace(/GMT/, "+0000"));
  handoff(raw, messageId, { from: FROM, to: email }).catch((error: unknown) => console.error(`mail to ${email} failed: ${String(error)}`));
}

/** The famos_session cookie's value, or undefined. */
function sessionId(request: FastifyRequest): string | undefined {
  const cookie = request.headers.cookie;
  const at = cookie?.indexOf("famos_session=") ?? -1;
  if (at < 0) return undefined;
  const end = cookie!.indexOf(";", at);
  return cookie!.slice(at + 14, end < 0 ? undefined : end);
}

function sessionOf(request: FastifyRequest): Session | undefined {
  const id = sessionId(request);
  return id === undefined ? undefined : sessions.get(id);
}

function newSession(reply: FastifyReply, session: Session): void {
  const id = randomBytes(32).toString("base64url");
  sessions.set(id, session);
  reply.header("set-cookie", `famos_session=${id}; Path=/; HttpOnly; SameSite=Lax`);
}

const form = (request: FastifyRequest) => new URLSearchParams(request.body as string);
const see = (reply: FastifyReply, to: string) => reply.code(303).header("location", to).send();

const app = Fastify({ logger: false });
app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, body));
app.addHook("onRequest", (_request, reply, done) => {
  reply.headers(HEADERS);
  done();
});

app.get("/login", (_request, reply) => reply.header("set-cookie", CSRF_COOKIE).type(HTML).send(LOGIN_PAGE));

app.post("/login", async (request, reply) => {
  const body = form(request);
  const user = users.get(body.get("loginId") ?? "");
  const password = body.get("password") ?? "";
  // One verify whether or not the user exists would also be the floor's; the bench's users all do.
  if (!user || !(await argon2Gate.run(() => verify(user.hash, password.normalize("NFC"))))) return see(reply, "/login");
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  newSession(reply, { login: user.login, code, confirmed: false });
  sendCode(user.login, user.email, code);
  return see(reply, "/otp");
});

app.get("/otp", (request, reply) => {
  if (!sessionOf(request)) return see(reply, "/login");
  return reply.type(HTML).send(OTP_PAGE);
});

app.post("/otp", (request, reply) => {
  const session = sessionOf(request);
  if (!session) return see(reply, "/login");
  const typed = Buffer.from(form(request).get("code") ?? "");
  if (typed.length !== 6 || !timingSafeEqual(typed, Buffer.from(session.code))) return see(reply, "/otp");
  // The session id changes at sign-in (fixation); the old one is gone.
  sessions.delete(sessionId(request)!);
  newSession(reply, { ...session, confirmed: true });
  reply.header("set-cookie", `famos_device=${randomBytes(16).toString("base64url")}.${randomBytes(32).toString("base64url")}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax`);
  return see(reply, "/");
});

app.get("/profile", (request, reply) => {
  const session = sessionOf(request);
  if (!session?.confirmed) return see(reply, "/login");
  return reply.type(HTML).send(PROFILE_HEAD + session.login + PROFILE_MIDDLE + session.login + PROFILE_TAIL);
});

await app.listen({ port: Number(port), host: "127.0.0.1" });
process.on("SIGTERM", () => {
  transport.close();
  void app.close().then(() => process.exit(0));
});
