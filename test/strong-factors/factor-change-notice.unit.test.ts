import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { removeOwnPasskey } from "../../src/passkeys/removal.ts";
import { listPasskeys } from "../../src/passkeys/passkeys.ts";
import { createSession, endSession } from "../../src/session/sessions.ts";
import { FACTOR_MAILS_PER_HOUR } from "../../src/strong-factors/factor-notice.ts";
import { removeApp, renewRecoveryCodes } from "../../src/strong-factors/manage.ts";
import { addUser } from "../support/app.ts";
import type { TestApp } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";
import { SoftAuthenticator } from "../support/soft-authenticator.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { addConfirmedApp, appCode, secretFrom, setUpAppOnProfile } from "./helpers.ts";

const ORIGIN = "http://localhost:80";
const JSON_ACCEPT = { headers: { accept: "application/json" } };

/** "Add a passkey" as the page's script does it, on Profile or on the setup screen. */
async function addPasskeyAt(client: FormClient, path: string, name: string) {
  const start = await client.post(`${path}/options`, { name }, JSON_ACCEPT);
  expect(start.statusCode).toBe(200);
  const options = (start.json() as { options: PublicKeyCredentialCreationOptionsJSON }).options;
  const credential = new SoftAuthenticator().create(options, { origin: ORIGIN });
  const finish = await client.post(path, { name, credential: JSON.stringify(credential) });
  expect([200, 303]).toContain(finish.statusCode);
}

/** A spy on the sender's wake-up (deps.mailQueued): a notice queued but never woken for waits for the sender's next poll. */
function wakes(deps: UnitApp["deps"]) {
  const spy = vi.spyOn(deps, "mailQueued");
  return { count: () => spy.mock.calls.length, restore: () => spy.mockRestore() };
}

/**
 * ASVS 2.5.5 / 2.2.3: the owner is told when a second factor of hers is added, replaced or removed.
 * The attacker: a colleague at the shared counter PC where she left her Profile open (a code confirmed
 * minutes ago, so no password is asked), or who saw her type the password. He adds his phone's passkey
 * or authenticator app, or makes a new set of recovery codes and photographs it; from then on her
 * password (which he saw) and his factor sign in as her, her mailbox never involved. Before, only the
 * audit trail knew: no mail went to her OTP email, as one goes for a new address or a new password.
 */
describe("a change of second factors on Profile tells the account's OTP email", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  const notices = async (userId: string) =>
    (await u.deps.db.selectFrom("outbox").select(["recipient", "subject", "text_body", "html_body"]).where("user_id", "=", userId).where("kind", "=", "notice.factor-changed").orderBy(sql`rowid`).execute());

  const addPasskey = (client: FormClient, name: string) => addPasskeyAt(client, "/profile/passkeys", name);

  it("a passkey added, then another, then one removed: one notice each, naming the login ID, the passkey and what to do if it was not her", async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    await addPasskey(client, "Counter PC");
    const first = await notices(user.id);
    expect(first).toHaveLength(1);
    expect(first[0]!.recipient).toBe(user.otp_email);
    expect(first[0]!.subject).toBe("Your FAMOS sign-in factors were changed");
    expect(first[0]!.text_body).toContain(`A passkey named “Counter PC” was added to the FAMOS login ID ${user.login_id}`);
    expect(first[0]!.text_body).toContain("If this was not you");
    await addPasskey(client, "Phone");
    const [passkey] = (await listPasskeys(u.deps.db, user.id)).filter((p) => p.name === "Phone");
    expect((await client.post(`/profile/passkeys/${passkey!.id}/remove`, {})).statusCode).toBe(303);
    const all = await notices(user.id);
    expect(all).toHaveLength(3);
    expect(all[2]!.text_body).toContain("A passkey named “Phone” was removed from the FAMOS login ID");
  });

  it("an authenticator app set up, then new recovery codes, then the app removed: one notice each", async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    await setUpAppOnProfile({ clock: u.clock } as unknown as TestApp, client);
    expect((await notices(user.id)).map((n) => n.text_body)).toEqual([expect.stringContaining(`An authenticator app was set up for the FAMOS login ID ${user.login_id}`)]);
    await client.get("/profile");
    expect((await client.post("/profile/recovery-codes", {})).statusCode).toBe(200);
    await client.get("/profile");
    expect((await client.post("/profile/app/remove", {})).statusCode).toBe(303);
    const texts = (await notices(user.id)).map((n) => n.text_body);
    expect(texts).toHaveLength(3);
    expect(texts[1]).toContain("A new set of recovery codes was made for the FAMOS login ID");
    expect(texts[2]).toContain("The authenticator app was removed from the FAMOS login ID");
  });

  it("each change wakes the sender once after its commit (deps.mailQueued), the notice queued with it", async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    const woken = wakes(u.deps);
    try {
      const step = async (change: () => Promise<unknown>) => {
        const [before, mails] = [woken.count(), (await notices(user.id)).length];
        await change();
        expect(woken.count() - before).toBe(1);
        expect((await notices(user.id)).length - mails).toBe(1);
      };
      await step(() => addPasskey(client, "Desk"));
      const [desk] = await listPasskeys(u.deps.db, user.id);
      await step(() => client.post(`/profile/passkeys/${desk!.id}/remove`, {}));
      await step(() => setUpAppOnProfile({ clock: u.clock } as unknown as TestApp, client));
      await client.get("/profile");
      await step(() => client.post("/profile/recovery-codes", {}));
      await client.get("/profile");
      await step(() => client.post("/profile/app/remove", {}));
    } finally {
      woken.restore();
    }
  });

  it("cancelling an app setup never confirmed tells no one: nothing was added", async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    expect((await client.post("/profile/app", {})).headers.location).toBe("/profile/app");
    await client.get("/profile");
    const cancelled = await client.post("/profile/app/remove", {});
    expect(cancelled.headers.location).toBe("/profile?factors=setup-cancelled#factors");
    expect(await notices(user.id)).toEqual([]);
  });

  it("a session ended while its change was on its way changes nothing and queues no mail, nor wakes the sender", async () => {
    const user = await addUser(u.deps);
    await addConfirmedApp(u.deps, user.id);
    const now = u.clock.now();
    await u.deps.db
      .insertInto("passkeys")
      .values({ id: `pk-${user.id}`, user_id: user.id, credential_id: `cred-${user.id}`, public_key: "AA", sign_count: 0, transports: null, device_type: "singleDevice", backed_up: 0, name: "Key", created_at: now, last_used_at: null })
      .execute();
    const ctx = { ip: "192.0.2.91", userAgent: "ended-notice-test" };
    const { session } = await createSession(u.deps.db, u.deps.random, now, u.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    expect(await endSession(u.deps.db, session.id, now, "signed-out")).toBe(true);
    const woken = wakes(u.deps);
    try {
      expect(await renewRecoveryCodes(u.deps, user, session, user.password, ctx)).toEqual({ kind: "signed-out" });
      expect(await removeApp(u.deps, user, session, user.password, ctx)).toEqual({ kind: "signed-out" });
      expect(await removeOwnPasskey(u.deps, user, session, { id: `pk-${user.id}`, password: user.password }, ctx)).toEqual({ kind: "signed-out" });
      expect(woken.count()).toBe(0);
    } finally {
      woken.restore();
    }
    expect(await notices(user.id)).toEqual([]);
  });

  it("the passkey's name: one with an invisible or control character is refused over the route in words staff understand, and the HTML part escapes what it quotes", async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    // An emoji joined with ZWJ ("👩‍💻 laptop") and a variation selector after a letter show nothing where they
    // are; "❤️ phone" as an iPhone types it (U+FE0F right after the pictograph) is taken (passkeys.unit).
    for (const name of ["\u{1F469}\u200D\u{1F4BB} laptop", "Phone\uFE0F", "Phone\u202Eenohp", "Pho\u200Bne", "Bell\u0007"]) {
      const start = await client.post("/profile/passkeys/options", { name }, JSON_ACCEPT);
      expect(start.statusCode, JSON.stringify(name)).toBe(400);
      expect(start.json(), JSON.stringify(name)).toEqual({
        error: "The name must not contain invisible or control characters (such as zero-width spaces, direction marks or emoji style selectors). Type it again without emoji.",
      });
    }
    expect(await listPasskeys(u.deps.db, user.id)).toEqual([]);
    expect(await notices(user.id)).toEqual([]);
    await addPasskey(client, `<img src=x onerror=alert(1)> & "Q"`);
    const [mail] = await notices(user.id);
    expect(mail!.text_body).toContain(`A passkey named “<img src=x onerror=alert(1)> & "Q"” was added`);
    expect(mail!.html_body).toContain("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Q&quot;");
    expect(mail!.html_body).not.toContain("<img");
  });

  it("a name stored before the rule (with U+202E, U+200B, U+0007) never reaches the removal mail as it is", async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    const id = `pk-old-${user.id}`;
    await u.deps.db
      .insertInto("passkeys")
      .values({ id, user_id: user.id, credential_id: `cred-old-${user.id}`, public_key: "AA", sign_count: 0, transports: null, device_type: "singleDevice", backed_up: 0, name: "Old\u202Eyek\u200B\u0007", created_at: u.clock.now(), last_used_at: null })
      .execute();
    await client.get("/profile");
    expect((await client.post(`/profile/passkeys/${id}/remove`, {})).statusCode).toBe(303);
    const [mail] = await notices(user.id);
    expect(mail!.text_body).toContain("A passkey named “Old");
    for (const part of [mail!.subject, mail!.text_body, mail!.html_body]) expect(part).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\u202e]/);
  });

  it(`at most ${FACTOR_MAILS_PER_HOUR} notices in any rolling hour per user, the last saying until when further changes go unmailed and to check Profile`, async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    await setUpAppOnProfile({ clock: u.clock } as unknown as TestApp, client);
    const t0 = u.clock.now();
    const renew = async () => {
      await client.get("/profile");
      expect((await client.post("/profile/recovery-codes", { password: user.password })).statusCode).toBe(200);
    };
    const texts = async () => (await notices(user.id)).map((n) => n.text_body);
    const at = (minutes: number) => u.clock.set(t0 + minutes * 60_000);
    const unmailedBefore = (time: string) => `Further changes to your sign-in factors made before ${time} on 28/11/2026 (UK time) will not be mailed: check them on your FAMOS Profile.`;
    // The app set up at 14:00 is the first notice; then new recovery codes every ten minutes (a full
    // session's requests are not counted by the request limit).
    for (const minute of [10, 20, 30, 40]) {
      at(minute);
      await renew();
    }
    const five = await texts();
    expect(five).toHaveLength(FACTOR_MAILS_PER_HOUR);
    // The cap counts the mails of the hour before each change: a place frees when the first (the app's,
    // 14:00:00) leaves that hour, at 15:00:00, not an hour after the fifth (15:40), as "in the next hour" said.
    expect(five.filter((text) => text.includes("will not be mailed"))).toEqual([five[FACTOR_MAILS_PER_HOUR - 1]]);
    expect(five.at(-1)).toContain(unmailedBefore("15:00:00"));
    for (const minute of [50, 59.999]) {
      at(minute);
      await renew();
    }
    expect(await texts()).toHaveLength(FACTOR_MAILS_PER_HOUR);
    // At 15:00:00 the first has left the hour: told again, and, four still within it, told when the next place frees.
    at(60);
    await renew();
    const after = await texts();
    expect(after).toHaveLength(FACTOR_MAILS_PER_HOUR + 1);
    expect(after.at(-1)).toContain("A new set of recovery codes was made");
    expect(after.at(-1)).toContain(unmailedBefore("15:10:00"));
    expect(await u.deps.db.selectFrom("audit").select("id").where("subject", "=", user.login_id).where("event", "=", "recovery-codes.issued").execute()).toHaveLength(8);
  });
});

/** The setup screen (a role that must have a strong factor): its app and its passkey tell as Profile's do. */
describe("a first strong factor set up on the setup screen tells the account's OTP email", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_STRONG_FACTOR_ROLES: "support" } });
  });
  afterAll(async () => u.close());

  const texts = async (userId: string) =>
    (await u.deps.db.selectFrom("outbox").select("text_body").where("user_id", "=", userId).where("kind", "=", "notice.factor-changed").execute()).map((r) => r.text_body);

  async function atSetup() {
    const { client, user, answer } = await signIn(u, { role: "support", page: null });
    expect(answer.headers.location).toBe("/factor-setup");
    await client.get("/factor-setup");
    return { client, user };
  }

  it("the authenticator app confirmed there: one notice, the sender woken", async () => {
    const { client, user } = await atSetup();
    expect((await client.post("/factor-setup/app", {})).headers.location).toBe("/factor-setup/app");
    const secret = secretFrom((await client.get("/factor-setup/app")).body);
    const woken = wakes(u.deps);
    try {
      expect((await client.post("/factor-setup/app/confirm", { code: await appCode(secret, u.clock.now()) })).statusCode).toBe(200);
      expect(woken.count()).toBe(1);
    } finally {
      woken.restore();
    }
    expect(await texts(user.id)).toEqual([expect.stringContaining(`An authenticator app was set up for the FAMOS login ID ${user.login_id}`)]);
  });

  it("a passkey added there: one notice, the sender woken", async () => {
    const { client, user } = await atSetup();
    const woken = wakes(u.deps);
    try {
      await addPasskeyAt(client, "/factor-setup/passkey", "Counter key");
      expect(woken.count()).toBe(1);
    } finally {
      woken.restore();
    }
    expect(await texts(user.id)).toEqual([expect.stringContaining(`A passkey named “Counter key” was added to the FAMOS login ID ${user.login_id}`)]);
  });
});
