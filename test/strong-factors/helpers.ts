import { generate } from "otplib";
import type { Deps } from "../../src/app/deps.ts";
import { sealSecret } from "../../src/strong-factors/secret-box.ts";
import { newTotpSecret } from "../../src/strong-factors/totp.ts";
import type { TestApp } from "../support/app.ts";
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { FormClient, submitPassword, type SignInUser } from "../support/client.ts";
import { SoftAuthenticator } from "../support/soft-authenticator.ts";

/** The key an app setup page shows as text, without its spaces. */
export function secretFrom(body: string): string {
  const match = /class="secret">([A-Z2-7 ]+)<\/code>/.exec(body);
  if (!match) throw new Error("no authenticator secret on the page");
  return match[1]!.replace(/ /g, "");
}

/** The recovery codes a page shows (once). */
export function recoveryCodesFrom(body: string): string[] {
  return [...body.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
}

/** What the authenticator app shows at `ms` (RFC 6238, 30 s, 6 digits). */
export function appCode(secret: string, ms: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(ms / 1000) });
}

/**
 * A confirmed authenticator app for the user, stored as Profile's setup leaves it (for tests over the
 * domain, without the pages), sealed under `key` (another: as an instance under another FAMOS_SECRET
 * sealed it). Returns its secret, for appCode.
 */
export async function addConfirmedApp(deps: Deps, userId: string, key: Buffer = deps.keys.totpSecret): Promise<string> {
  const secret = newTotpSecret(deps.random);
  const now = deps.clock.now();
  await deps.db
    .insertInto("authenticator_apps")
    .values({ user_id: userId, secret: sealSecret(key, deps.random, userId, secret), created_at: now, confirmed_at: now, last_step: null, last_used_at: null })
    .execute();
  return secret;
}

/** A moment in the middle of the next 30-second step: a new code, clear of step edges. */
export function nextStep(t: TestApp, steps = 1): void {
  const now = t.clock.now();
  const start = Math.floor(now / 30_000) * 30_000;
  t.clock.set(start + steps * 30_000 + 15_000);
}

/** Profile → Set up authenticator app → the code → the recovery codes page. A fully signed-in client with a fresh code. */
export async function setUpAppOnProfile(t: TestApp, client: FormClient): Promise<{ secret: string; recoveryCodes: string[] }> {
  await client.get("/profile");
  const started = await client.post("/profile/app", {});
  if (started.headers.location !== "/profile/app") throw new Error(`setup start: ${started.statusCode} ${started.headers.location}`);
  const page = await client.get("/profile/app");
  const secret = secretFrom(page.body);
  const confirmed = await client.post("/profile/app/confirm", { code: await appCode(secret, t.clock.now()) });
  if (confirmed.statusCode !== 200) throw new Error(`setup confirm: ${confirmed.statusCode}`);
  return { secret, recoveryCodes: recoveryCodesFrom(confirmed.body) };
}

/** Password step only: a client waiting at OTP capture (a code may have been mailed). */
export async function atOtp(t: TestApp, user: SignInUser, ip = "127.0.0.1"): Promise<FormClient> {
  const client = new FormClient(t.app, ip);
  const answer = await submitPassword(client, user.login_id, user.password);
  if (answer.statusCode !== 303 || answer.headers.location !== "/otp") throw new Error(`password step: ${answer.statusCode} ${answer.headers.location}`);
  await client.get("/otp");
  return client;
}

/** "Add a passkey" on the setup screen, as its page's script does: the options, a soft authenticator's answer, the finish. */
export async function addPasskeyOnSetup(client: FormClient, name: string) {
  const start = await client.post("/factor-setup/passkey/options", { name }, { headers: { accept: "application/json" } });
  if (start.statusCode !== 200) return start;
  const options = (start.json() as { options: PublicKeyCredentialCreationOptionsJSON }).options;
  const credential = new SoftAuthenticator().create(options, { origin: "http://localhost:80" });
  return client.post("/factor-setup/passkey", { name, credential: JSON.stringify(credential) });
}
