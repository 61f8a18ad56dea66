/**
 * `node --import tsx scripts/dealership.ts`: a dealership of 100 staff behind one address signs in at
 * opening time against a real FAMOS (`famos serve`, default settings, development mailbox), and the
 * script counts how many reach the portal within a minute. A colleague (not counted among them) first
 * types her password wrong five times. Staff start over the first 20 seconds; a member of staff who is refused reads the page and
 * tries again 10 seconds later, until the minute is up. All requests come from 127.0.0.1.
 *
 * Options: STAFF=<n> (default 100), EXTRA_ENV='{"FAMOS_RATE_LIMIT":"30"}' (settings on top of the defaults).
 */
import { hashPassword } from "../src/password/hash.ts";
import { cryptoRandom } from "../src/platform/random.ts";
import { userRow } from "../src/users/users.ts";
import { startInstance } from "./lib/instance.ts";

const STAFF = Number(process.env.STAFF ?? 100);
const PASSWORD = "opening time at the dealership";
const MINUTE = 60_000;

class Browser {
  private readonly cookies = new Map<string, string>();
  csrf = "";
  constructor(private readonly base: string) {}

  async request(path: string, form?: Record<string, string>): Promise<{ status: number; location: string | null; body: string }> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
    let body: string | undefined;
    if (form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams({ ...form, _csrf: this.csrf }).toString();
    }
    const response = await fetch(`${this.base}${path}`, { method: form ? "POST" : "GET", headers, body, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const [name, ...value] = pair!.split("=");
      this.cookies.set(name!.trim(), value.join("="));
    }
    const text = await response.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (csrf) this.csrf = csrf;
    return { status: response.status, location: response.headers.get("location"), body: text };
  }
}

async function main(): Promise<void> {
  const hash = await hashPassword(PASSWORD);
  const extra = JSON.parse(process.env.EXTRA_ENV ?? "{}") as Record<string, string>;
  const instance = await startInstance(extra, async (db, keys) => {
    const now = Date.now();
    const rows = Array.from({ length: STAFF + 1 }, (_, i) =>
      userRow(keys, cryptoRandom, now, { loginId: `staff${i}`, fullName: "Staff Member", partnerNumber: "7", role: "user", passwordHash: hash, otpEmail: `staff${i}@dealer.example` }),
    );
    await db.insertInto("users").values(rows).execute();
  });
  const codes = new Map<string, string>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const mails = (await (await fetch(`${instance.url}/dev/mailbox.json`)).json()) as Array<{ to: string; subject: string; text: string }>;
      for (const mail of mails) {
        const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
        if (code && /passcode/.test(mail.subject) && !codes.has(mail.to)) codes.set(mail.to, code);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();

  const started = Date.now();
  const deadline = started + MINUTE;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const outcomes = { reached: 0, refusals: new Map<string, number>() };
  const refused = (why: string) => outcomes.refusals.set(why, (outcomes.refusals.get(why) ?? 0) + 1);

  async function signIn(i: number): Promise<boolean> {
    const browser = new Browser(instance.url);
    await browser.request("/login");
    const login = await browser.request("/login", { loginId: `staff${i}`, password: PASSWORD });
    if (login.location !== "/otp") {
      refused(`password step ${login.status}`);
      return false;
    }
    const email = `staff${i}@dealer.example`;
    while (!codes.has(email) && Date.now() < deadline) await sleep(100);
    await browser.request("/otp");
    const confirmed = await browser.request("/otp", { code: codes.get(email) ?? "000000" });
    if (confirmed.status !== 303) {
      refused(`code step ${confirmed.status}`);
      return false;
    }
    const portal = await browser.request("/");
    return portal.status === 200 && portal.body.includes("Sign out");
  }

  // One colleague types her password wrong five times as the doors open.
  const typist = (async () => {
    for (let i = 0; i < 5; i += 1) {
      const browser = new Browser(instance.url);
      await browser.request("/login");
      await browser.request("/login", { loginId: `staff${STAFF}`, password: `typo ${i}` });
    }
  })();
  await Promise.all([
    typist,
    ...Array.from({ length: STAFF }, async (_, i) => {
      await sleep((i * 20_000) / STAFF);
      while (Date.now() < deadline) {
        if (await signIn(i)) {
          if (Date.now() <= deadline) outcomes.reached += 1;
          return;
        }
        await sleep(10_000);
      }
    }),
  ]);
  polling = false;
  await poller;
  await instance.stop();
  process.stdout.write(`${outcomes.reached} of ${STAFF} staff behind one address reached the portal within a minute (${((Date.now() - started) / 1000).toFixed(1)} s run)\n`);
  for (const [why, count] of outcomes.refusals) process.stdout.write(`  refused at the ${why}: ${count} times\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`dealership failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(2);
});
