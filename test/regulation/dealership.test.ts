import { afterEach, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/password/hash.ts";
import { revokeDevices } from "../../src/regulation/devices.ts";
import { createUser } from "../../src/users/users.ts";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signInFully, submitPassword } from "../support/client.ts";
import { extractCode } from "../support/smtp.ts";
import { isCodeMail } from "../support/mailbox.ts";

const MINUTE = 60_000;

/**
 * Issue 10: staff of a dealership share one public address. One person's typos, or a stranger who
 * knows a login ID, must not keep colleagues or the owner out; spraying from one address is stopped.
 */
describe("a dealership behind one address", { timeout: 120_000 }, () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("a colleague's 5 wrong passwords pause only her login ID on new browsers; colleagues on new and known browsers reach OTP capture", async () => {
    // Default settings, the request limit included.
    t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "" } });
    const ip = "203.0.113.10";
    const [typist, newcomer, regular] = [await addUser(t.deps), await addUser(t.deps), await addUser(t.deps)];
    const known = new FormClient(t.app, ip);
    await signInFully(known, t.smtp, regular);

    for (let i = 0; i < 5; i += 1) expect((await submitPassword(new FormClient(t.app, ip), typist.login_id, `typo ${i}`)).statusCode).toBe(401);
    const paused = await submitPassword(new FormClient(t.app, ip), typist.login_id, typist.password);
    expect(paused.statusCode).toBe(401);
    expect(paused.body).toContain("Sign-in with this login ID is paused on new browsers until 14:01");
    expect(paused.body).toContain("retailit@famos.test");

    expect((await submitPassword(new FormClient(t.app, ip), newcomer.login_id, newcomer.password)).headers.location).toBe("/otp");
    expect((await submitPassword(known, regular.login_id, regular.password)).headers.location).toBe("/otp");
  });

  it("the pause's end is told as a clock time it is over by: one ending at 14:01:30 reads 14:02, not 14:01, and at 14:02 she gets in", async () => {
    t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "" } });
    const typist = await addUser(t.deps);
    t.clock.advance(30_000); // 14:00:30: the 1-minute pause ends at 14:01:30
    for (let i = 0; i < 5; i += 1) await submitPassword(new FormClient(t.app), typist.login_id, `typo ${i}`);
    const told = (await submitPassword(new FormClient(t.app), typist.login_id, typist.password)).body;
    expect(told).toContain("Sign-in with this login ID is paused on new browsers until 14:02");
    // Trusting "14:01" she would be refused again at 14:01; at the time told she is not.
    t.clock.advance(MINUTE - 30_000);
    expect((await submitPassword(new FormClient(t.app), typist.login_id, typist.password)).body).toContain("until 14:02");
    t.clock.advance(MINUTE);
    expect((await submitPassword(new FormClient(t.app), typist.login_id, typist.password)).headers.location).toBe("/otp");
  });

  it("100 staff signing in at opening time from one address with default settings all reach the portal", async () => {
    t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "" } });
    const ip = "203.0.113.20";
    const hash = await hashPassword("opening time password");
    const staff = [];
    for (let i = 0; i < 100; i += 1) {
      const user = (await createUser(t.deps.db, t.deps.keys, t.deps.random, t.clock.now(), { loginId: `staff${i}`, fullName: "Staff Member", partnerNumber: "7", role: "user", passwordHash: hash, otpEmail: `staff${i}@dealer.example` }))!;
      staff.push({ ...user, password: "opening time password" });
    }
    // Someone types their password wrong five times first.
    for (let i = 0; i < 5; i += 1) await submitPassword(new FormClient(t.app, ip), "staff0", `typo ${i}`);
    const reached = await Promise.all(
      staff.slice(1).map(async (user) => {
        const client = new FormClient(t.app, ip);
        if ((await submitPassword(client, user.login_id, user.password)).headers.location !== "/otp") return false;
        // A hundred code mails at once: the outbox takes its time with them.
        const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes(user.otp_email!) && isCodeMail(m.subject), 90_000);
        await client.get("/otp");
        await client.post("/otp", { code: extractCode(mail.text) });
        const portal = await client.get("/");
        return portal.statusCode === 200 && portal.body.includes("Sign out");
      }),
    );
    expect(reached.filter(Boolean)).toHaveLength(99);
  });

  it("a stranger's 12 wrong passwords for alice: her own browser still signs in, the stranger's stays paused; stolen, forged or revoked device cookies give nothing", async () => {
    t = await createTestApp();
    const alice = await addUser(t.deps, { loginId: "alice" });
    const bob = await addUser(t.deps, { loginId: "bob" });
    const home = new FormClient(t.app, "198.51.100.5");
    await signInFully(home, t.smtp, alice);
    const bobsBrowser = new FormClient(t.app, "198.51.100.6");
    await signInFully(bobsBrowser, t.smtp, bob);
    const aliceToken = home.cookies.get("famos_device")!;
    expect(aliceToken).toMatch(/^[\w-]+\.[\w-]+$/);

    const stranger = new FormClient(t.app, "203.0.113.99");
    for (let i = 0; i < 12; i += 1) expect((await submitPassword(stranger, alice.login_id, `guess ${i}`)).statusCode).toBe(401);
    const strangerRight = await submitPassword(stranger, alice.login_id, alice.password);
    expect(strangerRight.statusCode).toBe(401);
    expect(strangerRight.body).toContain("paused on new browsers");

    expect((await submitPassword(home, alice.login_id, alice.password)).headers.location).toBe("/otp");
    await home.get("/otp"); // as the browser follows it: the password step renewed the CSRF secret

    const presenting = async (cookie: string) => {
      const client = new FormClient(t.app, "203.0.113.98");
      client.cookies.set("famos_device", cookie);
      return submitPassword(client, alice.login_id, alice.password);
    };
    // Bob's device cookie is bound to bob; an altered one fails its MAC.
    expect((await presenting(bobsBrowser.cookies.get("famos_device")!)).statusCode).toBe(401);
    const [id, mac] = aliceToken.split(".") as [string, string];
    expect((await presenting(`${id}.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`)).statusCode).toBe(401);
    expect((await presenting(`${id}x.${mac}`)).statusCode).toBe(401);
    // Alice's own token works from anywhere until it is revoked.
    expect((await presenting(aliceToken)).headers.location).toBe("/otp");
    await revokeDevices(t.deps.db, alice.login_key, t.clock.now());
    expect((await presenting(aliceToken)).statusCode).toBe(401);
    expect((await submitPassword(home, alice.login_id, alice.password)).statusCode).toBe(401);
  });

  it("a counter PC the whole showroom shares (15 staff, one after another): a stranger pausing every login ID keeps none of them out at that PC", async () => {
    t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "" } });
    const ip = "203.0.113.30";
    const staff = [];
    for (let i = 0; i < 15; i += 1) staff.push(await addUser(t.deps, { loginId: `counter${i}` }));
    // One browser: each colleague signs in, signs out (the session cookie goes), the device cookie stays.
    let device: string | undefined;
    const atThePc = () => {
      const client = new FormClient(t.app, ip);
      if (device !== undefined) client.cookies.set("famos_device", device);
      return client;
    };
    for (const person of staff) {
      const client = atThePc();
      await signInFully(client, t.smtp, person);
      device = client.cookies.get("famos_device");
    }
    expect(device!.split("~")).toHaveLength(15);

    // From an address of his own for each (below the address pause: the login IDs' pauses are the point).
    const strangers = staff.map((_, i) => new FormClient(t.app, `198.51.100.${i + 1}`));
    for (const [i, person] of staff.entries()) for (let k = 0; k < 5; k += 1) await submitPassword(strangers[i]!, person.login_id, `guess ${k}`);
    expect((await submitPassword(strangers[0]!, staff[0]!.login_id, staff[0]!.password)).body).toContain("paused on new browsers");

    const keptOut = [];
    for (const person of staff) if ((await submitPassword(atThePc(), person.login_id, person.password)).headers.location !== "/otp") keptOut.push(person.login_id);
    expect(keptOut).toEqual([]);
  });

  it("a known browser's own typos pause that browser alone, after FAMOS_DEVICE_LOCK_AFTER", async () => {
    t = await createTestApp();
    const alice = await addUser(t.deps);
    const home = new FormClient(t.app, "198.51.100.7");
    await signInFully(home, t.smtp, alice);
    for (let i = 0; i < 9; i += 1) expect((await submitPassword(home, alice.login_id, `typo ${i}`)).body).toContain("The login ID or password is not right. Check them");
    const tenth = await submitPassword(home, alice.login_id, "typo 10");
    expect(tenth.body).toContain("The login ID or password is not right. Sign-in with this login ID is paused on this browser until 14:01");
    // New browsers are not affected by the browser's pause: the login ID counted nothing.
    expect((await submitPassword(new FormClient(t.app, "198.51.100.8"), alice.login_id, alice.password)).headers.location).toBe("/otp");
    t.clock.advance(MINUTE);
    expect((await submitPassword(home, alice.login_id, alice.password)).headers.location).toBe("/otp");
  });

  it("the request limit counts strangers only: a known browser and a signed-in session are not counted", async () => {
    t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "3" } });
    const ip = "203.0.113.50";
    const user = await addUser(t.deps);
    const known = new FormClient(t.app, ip);
    await signInFully(known, t.smtp, user);
    const stranger = new FormClient(t.app, ip);
    await stranger.get("/login");
    const strangers = [];
    for (let i = 0; i < 3; i += 1) strangers.push((await stranger.post("/login", { loginId: "nobody", password: "x" })).statusCode);
    // The known browser's own first sign-in, as a new browser then, was counted: two more, then 429.
    expect(strangers).toEqual([401, 401, 429]);
    // The known browser posts its own login ID: not counted, though the address's budget is spent.
    for (let i = 0; i < 4; i += 1) expect((await submitPassword(known, user.login_id, `typo ${i}`)).statusCode).toBe(401);
    // A signed-in session is not counted on its own account's forms either (another login ID posted at
    // sign-in would be: request-limit-http.test).
    const colleague = await addUser(t.deps);
    const signedIn = new FormClient(t.app, "203.0.113.51");
    await signInFully(signedIn, t.smtp, colleague);
    for (let i = 0; i < 4; i += 1) {
      await signedIn.get("/profile");
      expect((await signedIn.post("/profile/language", { locale: "en-GB", timeZone: "Europe/London" })).statusCode).toBe(303);
    }
  });

  it("spraying: 50 login IDs with one wrong password each pause the address for new browsers; known browsers still get in", async () => {
    t = await createTestApp();
    const ip = "203.0.113.30";
    const regular = await addUser(t.deps);
    const known = new FormClient(t.app, ip);
    await signInFully(known, t.smtp, regular);
    const newcomer = await addUser(t.deps);
    for (let i = 0; i < 50; i += 1) expect((await submitPassword(new FormClient(t.app, ip), `sprayed${i}`, "Summer2026!")).statusCode).toBe(401);
    const refused = await submitPassword(new FormClient(t.app, ip), newcomer.login_id, newcomer.password);
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toContain("Sign-in from this network is paused for new browsers until 14:01");
    expect((await submitPassword(known, regular.login_id, regular.password)).headers.location).toBe("/otp");
    // Another address is not affected.
    expect((await submitPassword(new FormClient(t.app, "203.0.113.31"), newcomer.login_id, newcomer.password)).headers.location).toBe("/otp");
  });

  it("at a shared counter PC a colleague pauses her browser (10 wrong passwords) and new browsers (5 from a private window): the new browser's page no longer says a browser she used before can be used, in any language, and reads as an unknown login ID's", async () => {
    t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "" } });
    const http = overHttp(await listen(t));
    const alice = await addUser(t.deps, { loginId: "alice" });
    // She signs in at the counter PC, her usual browser (it keeps her device cookie), and signs out.
    const counterPc = new FormClient(http);
    await signInFully(counterPc, t.smtp, alice);
    expect((await counterPc.post("/logout")).statusCode).toBe(303);

    // A colleague at that PC: 10 wrong passwords pause it for her login ID; 5 from a private window pause new browsers.
    for (let i = 0; i < 10; i += 1) expect((await submitPassword(counterPc, alice.login_id, `guess ${i}`)).statusCode).toBe(401);
    for (let i = 0; i < 5; i += 1) expect((await submitPassword(new FormClient(http), alice.login_id, `guess ${i}`)).statusCode).toBe(401);

    // Every browser she has signed in with is paused: the counter PC refuses her right password.
    expect((await submitPassword(counterPc, alice.login_id, alice.password)).body).toContain("paused on this browser until 14:01");
    // On a new browser, the words must not send her back to it as if it worked.
    const told = (await submitPassword(new FormClient(http), alice.login_id, alice.password)).body;
    expect(told).toContain("Sign-in with this login ID is paused on new browsers until 14:01 (UK time), after too many attempts.");
    expect(told).not.toContain("A browser where you have signed in with it before can still be used.");
    expect(told).toContain("A browser where you have signed in with it before can still be used unless sign-in has been paused there too.");

    // The words depend on the login ID as typed, never on her account: a login ID no one has reads the same.
    const pauseWords = (body: string) => /Sign-in with this login ID is paused on new browsers[^<]*/.exec(body)?.[0];
    for (let i = 0; i < 5; i += 1) await submitPassword(new FormClient(http), "no-such-person", `guess ${i}`);
    expect(pauseWords((await submitPassword(new FormClient(http), "no-such-person", "anything")).body)).toBe(pauseWords(told));

    // Each language says the same, with the condition.
    const expected: Record<string, string> = {
      de: "kann weiter verwendet werden, sofern die Anmeldung dort nicht ebenfalls ausgesetzt ist.",
      fr: "reste utilisable, sauf si la connexion y est suspendue elle aussi.",
      it: "si può ancora usare, a meno che l’accesso non sia sospeso anche lì.",
      es: "se puede seguir usando, salvo que el inicio de sesión también esté en pausa allí.",
      nl: "kunt u nog gebruiken, tenzij aanmelden daar ook is gepauzeerd.",
    };
    for (const [locale, words] of Object.entries(expected)) {
      const page = (await submitPassword(new FormClient(http, "127.0.0.1", { "accept-language": locale }), alice.login_id, alice.password)).body;
      expect(page, locale).toContain(words);
    }
  });

  it("the network's pause says the same of known browsers: her counter PC paused (10 wrong passwords there) and the network paused (spraying), a new browser's page does not send her back to it as if it worked", async () => {
    t = await createTestApp({ env: { FAMOS_RATE_LIMIT: "" } });
    const ip = "203.0.113.40";
    const alice = await addUser(t.deps, { loginId: "alice" });
    const counterPc = new FormClient(t.app, ip);
    await signInFully(counterPc, t.smtp, alice);
    for (let i = 0; i < 10; i += 1) await submitPassword(counterPc, alice.login_id, `guess ${i}`);
    for (let i = 0; i < 50; i += 1) await submitPassword(new FormClient(t.app, ip), `sprayed${i}`, "Summer2026!");
    expect((await submitPassword(counterPc, alice.login_id, alice.password)).body).toContain("paused on this browser until 14:01");
    const told = (await submitPassword(new FormClient(t.app, ip), alice.login_id, alice.password)).body;
    expect(told).toContain("Sign-in from this network is paused for new browsers until 14:01");
    expect(told).not.toContain("Browsers where you have signed in before can still be used.");
    expect(told).toContain("Browsers where you have signed in before can still be used unless sign-in has been paused there too.");
    const expected: Record<string, string> = {
      de: "können weiter verwendet werden, sofern die Anmeldung dort nicht ebenfalls ausgesetzt ist.",
      fr: "restent utilisables, sauf si la connexion y est suspendue elle aussi.",
      it: "si possono ancora usare, a meno che l’accesso non sia sospeso anche lì.",
      es: "se pueden seguir usando, salvo que el inicio de sesión también esté en pausa allí.",
      nl: "kunt u nog gebruiken, tenzij aanmelden daar ook is gepauzeerd.",
    };
    for (const [locale, words] of Object.entries(expected)) {
      const page = (await submitPassword(new FormClient(t.app, ip, { "accept-language": locale }), alice.login_id, alice.password)).body;
      expect(page, locale).toContain(words);
    }
  });
});
