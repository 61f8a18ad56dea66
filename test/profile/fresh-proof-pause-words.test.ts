import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword, type TestUser } from "../support/client.ts";

const MINUTE = 60_000;
const JSON_ACCEPT = { headers: { accept: "application/json" } };
/** A reader in German: words in FAMOS's default language (English) where the reader's belong are a drift too. */
const GERMAN = { "accept-language": "de" };
const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

/** The text of a page's refusal (its role="alert" message, by its id where it has one), as the reader sees it. */
function alertText(body: string, id?: string): string {
  const match = new RegExp(`<div class="message error" role="alert"${id ? ` id="${id}"` : ""}>([\\s\\S]*?)</div>`).exec(body);
  if (!match) throw new Error(`no ${id ?? "error"} message on the page`);
  return match[1]!.replace(/<[^>]+>/g, "").replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!);
}

/** A route that asks for the password again: its set-up, one try with a password, and the words of its refusal. */
interface Route {
  name: string;
  setUp: () => Promise<{ user: TestUser; client: FormClient; send: (password: string) => Promise<LightMyRequestResponse> }>;
  words: (answer: LightMyRequestResponse) => string;
  /** A user with an OTP email, who can have wrong codes. */
  codes: boolean;
}

/**
 * Every place that asks for the password again before a change (requireFreshProof, and the console's
 * step-up through it) tells a paused login ID what the password step tells it: pauseText's words, in
 * the reader's language, with the same scope and end. Twice: a pause the route's own wrong passwords
 * started, and a lock wrong codes started elsewhere, told only once the password typed is right
 * (lockToldOnceRight). The sign-in page, asked at that moment from the same browser with the right
 * password, is the measure. A route whose words drifted (its own sentence, the default language,
 * another scope, no end) goes red here.
 */
describe("a paused account is told the password step's pause wherever the password is asked again", () => {
  let t: TestApp;
  let n = 0;
  beforeAll(async () => {
    // One wrong code locks the login ID until support unlocks it.
    t = await createTestApp({ env: { FAMOS_CODE_HARD_LOCK: "1" } });
  });
  afterAll(async () => t?.close());

  /** A user signed in with a code, the code `minutes` old (a page seen every 25 minutes, so the session does not idle out). */
  async function signedIn(role: "user" | "admin", minutes: number, page: string) {
    const user = await addUser(t.deps, { role });
    const client = new FormClient(t.app, `10.47.0.${(n += 1)}`, GERMAN);
    await signInFully(client, t.smtp, user);
    for (let left = minutes; left > 0; left -= 25) {
      t.clock.advance(Math.min(25, left) * MINUTE);
      expect((await client.get(page)).statusCode).toBe(200);
    }
    return { user, client };
  }

  /** The sign-in page's answer to the right password from this browser now: the measure. */
  async function signInPageSays(user: TestUser, client: FormClient): Promise<string> {
    // It answers every refusal alike (SPEC item 1: no account enumeration), so by its words only.
    const login = await submitPassword(client, user.login_id, user.password);
    expect(login.headers.location).toBeUndefined();
    return alertText(login.body, "login-error");
  }

  const routes: Route[] = [
    {
      name: "Profile's OTP email",
      codes: true,
      setUp: async () => {
        const { user, client } = await signedIn("user", 16, "/profile");
        return { user, client, send: (password) => client.post("/profile/email", { newEmail: "new@dealer.example", confirmNewEmail: "new@dealer.example", password }) };
      },
      words: (answer) => alertText(answer.body, "email-error"),
    },
    {
      name: "early enrolment from the portal",
      codes: false,
      setUp: async () => {
        const start = t.clock.now();
        const partner = `pw-early-${(n += 1)}`;
        await setWaveStart(t.deps.db, partner, start + 5 * 86_400_000, start, "test");
        const user = await addUser(t.deps, { email: null, partnerNumber: partner });
        const client = new FormClient(t.app, `10.47.1.${n}`, GERMAN);
        expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/");
        await client.get("/rollout/enrol");
        return { user, client, send: (password) => client.post("/rollout/enrol", { email: "early@dealer.example", confirmEmail: "early@dealer.example", password }) };
      },
      words: (answer) => alertText(answer.body, "enrol-error"),
    },
    {
      name: "Profile's authenticator app",
      codes: true,
      setUp: async () => {
        const { user, client } = await signedIn("user", 16, "/profile");
        return { user, client, send: (password) => client.post("/profile/app", { password }) };
      },
      words: (answer) => alertText(answer.body),
    },
    {
      name: "Profile's passkey, added (its JSON answer)",
      codes: true,
      setUp: async () => {
        const { user, client } = await signedIn("user", 16, "/profile");
        return { user, client, send: (password) => client.post("/profile/passkeys/options", { name: "Work laptop", password }, JSON_ACCEPT) };
      },
      words: (answer) => (answer.json() as { error: string }).error,
    },
    {
      // The proof comes before the passkey is looked for, so an id none has is asked the same.
      name: "Profile's passkey, removed",
      codes: true,
      setUp: async () => {
        const { user, client } = await signedIn("user", 16, "/profile");
        return { user, client, send: (password) => client.post("/profile/passkeys/no-such-passkey/remove", { password }) };
      },
      words: (answer) => alertText(answer.body),
    },
    {
      name: "the support console's step-up",
      codes: true,
      setUp: async () => {
        const { user, client } = await signedIn("admin", 61, "/support");
        const other = await addUser(t.deps, {});
        await client.get(`/support/users/${other.id}`);
        return { user, client, send: (stepUpPassword) => client.post(`/support/users/${other.id}/unlock`, { stepUpPassword }) };
      },
      words: (answer) => alertText(answer.body, "stepUp-error"),
    },
  ];

  it.each(routes.map((route) => [route.name, route] as const))("%s: paused by its own wrong passwords", async (_name, route) => {
    const { user, client, send } = await route.setUp();
    let answer = await send("wrong 0");
    for (let i = 1; i < 30 && answer.statusCode !== 429; i += 1) answer = await send(`wrong ${i}`);
    expect(answer.statusCode).toBe(429);
    const right = await send(user.password);
    expect(right.statusCode).toBe(429);
    const told = await signInPageSays(user, client);
    expect(told).toMatch(/^Die Anmeldung mit dieser Anmelde-ID ist nach zu vielen Versuchen .* ausgesetzt\./);
    expect(route.words(right)).toBe(told);
  });

  it.each(routes.filter((route) => route.codes).map((route) => [route.name, route] as const))("%s: locked by a wrong code elsewhere, told once the password is right", async (_name, route) => {
    const { user, client, send } = await route.setUp();
    // Someone with the password (the user, on another PC) types a wrong code.
    const elsewhere = new FormClient(t.app, `10.47.2.${(n += 1)}`, GERMAN);
    const mark = await t.mailbox.mark();
    await submitPassword(elsewhere, user.login_id, user.password);
    const code = await t.mailbox.code(user.otp_email!, mark);
    await elsewhere.get("/otp");
    await elsewhere.post("/otp", { code: code === "000000" ? "111111" : "000000" });
    const right = await send(user.password);
    expect(right.statusCode).toBe(429);
    const told = await signInPageSays(user, client);
    expect(told).toMatch(/^Die Anmeldung mit dieser Anmelde-ID ist nach zu vielen falschen Codes gesperrt/);
    expect(route.words(right)).toBe(told);
  });
});
