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

/**
 * Every place that asks for the password again before a change (requireFreshProof, and the console's
 * step-up through it) tells a paused login ID what the password step tells it: pauseText's words, the
 * same scope and end. Each route here is driven into the pause by its own wrong passwords, then sent
 * the right one; the sign-in page, asked at that moment from the same browser with the right password,
 * is the measure. A route whose words drifted (its own sentence, another scope, no end) goes red here.
 */
describe("a paused account is told the password step's pause wherever the password is asked again", () => {
  let t: TestApp;
  let n = 0;
  beforeAll(async () => {
    t = await createTestApp();
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

  /** Wrong passwords until the route answers 429, then the right one: that answer, and the sign-in page's. */
  async function pausedThenRight(user: TestUser, client: FormClient, send: (password: string) => Promise<LightMyRequestResponse>) {
    let answer = await send("wrong 0");
    for (let i = 1; i < 30 && answer.statusCode !== 429; i += 1) answer = await send(`wrong ${i}`);
    expect(answer.statusCode).toBe(429);
    const right = await send(user.password);
    expect(right.statusCode).toBe(429);
    // The sign-in page answers every refusal alike (SPEC item 1: no account enumeration), so by its words only.
    const login = await submitPassword(client, user.login_id, user.password);
    expect(login.headers.location).toBeUndefined();
    const told = alertText(login.body, "login-error");
    expect(told).toMatch(/^Die Anmeldung mit dieser Anmelde-ID ist nach zu vielen Versuchen .* ausgesetzt\./);
    return { right, told };
  }

  it("Profile's OTP email", async () => {
    const { user, client } = await signedIn("user", 16, "/profile");
    const { right, told } = await pausedThenRight(user, client, (password) => client.post("/profile/email", { newEmail: "new@dealer.example", confirmNewEmail: "new@dealer.example", password }));
    expect(alertText(right.body, "email-error")).toBe(told);
  });

  it("early enrolment from the portal", async () => {
    const start = t.clock.now();
    await setWaveStart(t.deps.db, "pw-early", start + 5 * 86_400_000, start, "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: "pw-early" });
    const client = new FormClient(t.app, "10.47.1.1", GERMAN);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/");
    await client.get("/rollout/enrol");
    const { right, told } = await pausedThenRight(user, client, (password) => client.post("/rollout/enrol", { email: "early@dealer.example", confirmEmail: "early@dealer.example", password }));
    expect(alertText(right.body, "enrol-error")).toBe(told);
  });

  it("Profile's authenticator app", async () => {
    const { user, client } = await signedIn("user", 16, "/profile");
    const { right, told } = await pausedThenRight(user, client, (password) => client.post("/profile/app", { password }));
    expect(alertText(right.body)).toBe(told);
  });

  it("Profile's passkey, added (its JSON answer)", async () => {
    const { user, client } = await signedIn("user", 16, "/profile");
    const { right, told } = await pausedThenRight(user, client, (password) => client.post("/profile/passkeys/options", { name: "Work laptop", password }, JSON_ACCEPT));
    expect((right.json() as { error: string }).error).toBe(told);
  });

  // The proof comes before the passkey is looked for, so an id none has is asked the same.
  it("Profile's passkey, removed", async () => {
    const { user, client } = await signedIn("user", 16, "/profile");
    const { right, told } = await pausedThenRight(user, client, (password) => client.post("/profile/passkeys/no-such-passkey/remove", { password }));
    expect(alertText(right.body)).toBe(told);
  });

  it("the support console's step-up", async () => {
    const { user: admin, client } = await signedIn("admin", 61, "/support");
    const other = await addUser(t.deps, {});
    await client.get(`/support/users/${other.id}`);
    const { right, told } = await pausedThenRight(admin, client, (stepUpPassword) => client.post(`/support/users/${other.id}/unlock`, { stepUpPassword }));
    expect(alertText(right.body, "stepUp-error")).toBe(told);
  });
});
