import { afterEach, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { otherCode } from "../security/helpers.ts";
import { revokeDevices } from "../../src/regulation/devices.ts";

const LIMITED = "Too many requests from your address";

/**
 * SPEC "Request limits": per client address on the sign-in, code and regenerate routes, answered with
 * 429 and a page saying when to try again; requests from trusted devices and signed-in sessions do not
 * count. Each of these was unguarded on its own (the limit taken off /otp or /otp/regenerate, or either
 * exemption taken out, left every test green: the other exemption covered the only test's clients).
 * Over real HTTP (every client here is 127.0.0.1, one dealership's address), on both databases.
 */
describe.each(DIALECTS)("the request limit over HTTP (%s)", (database) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it("a stranger at OTP capture gets 429 and the wait on the code and regenerate routes", async () => {
    t = await createTestApp({ database, env: { FAMOS_RATE_LIMIT: "3" } });
    const http = overHttp(await listen(t));
    const user = await addUser(t.deps);
    const client = new FormClient(http);
    const mark = await t.mailbox.mark();
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/otp");
    const code = await t.mailbox.code(user.otp_email!, mark);
    await client.get("/otp");
    for (let i = 1; i <= 3; i += 1) expect((await client.post("/otp", { code: otherCode(code, i) })).statusCode).toBe(401);
    const codeLimited = await client.post("/otp", { code: otherCode(code, 4) });
    expect(codeLimited.statusCode).toBe(429);
    expect(codeLimited.body).toMatch(/Please wait \d+ seconds? and try again/);
    expect(codeLimited.headers["retry-after"]).toMatch(/^\d+$/);

    for (let i = 0; i < 3; i += 1) {
      t.clock.advance(31_000);
      await client.get("/otp");
      const regenerated = await client.post("/otp/regenerate");
      expect(regenerated.statusCode, `regenerate ${i + 1}`).not.toBe(429);
      expect(regenerated.body).not.toContain(LIMITED);
    }
    t.clock.advance(31_000);
    await client.get("/otp");
    const regenerateLimited = await client.post("/otp/regenerate");
    expect(regenerateLimited.statusCode).toBe(429);
    expect(regenerateLimited.body).toContain(LIMITED);
  });

  it("a known browser, signed out, is not counted posting its own login ID; a stranger from the address is", async () => {
    t = await createTestApp({ database, env: { FAMOS_RATE_LIMIT: "3" } });
    const http = overHttp(await listen(t));
    const user = await addUser(t.deps);
    const { client: known } = await signIn(t, { user, client: new FormClient(http), page: "/profile" });
    expect((await known.post("/logout")).statusCode).toBe(303);
    expect([...known.cookies.keys()].some((name) => name.endsWith("famos_device"))).toBe(true);
    // Its sign-in above spent one of the address's three; five typos of its own are not counted.
    for (let i = 0; i < 5; i += 1) expect((await submitPassword(known, user.login_id, `typo ${i}`)).statusCode).toBe(401);
    const stranger = new FormClient(http);
    await stranger.get("/login");
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await stranger.post("/login", { loginId: "nobody", password: "x" })).statusCode);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it("a browser whose device cookie was revoked (a new password, a support reset) is counted as a stranger", async () => {
    t = await createTestApp({ database, env: { FAMOS_RATE_LIMIT: "3" } });
    const http = overHttp(await listen(t));
    const user = await addUser(t.deps);
    // The thief's browser signed in with the leaked password and holds a device cookie whose MAC is intact.
    const { client: thief } = await signIn(t, { user, client: new FormClient(http), page: "/profile" });
    expect((await thief.post("/logout")).statusCode).toBe(303);
    await revokeDevices(t.deps.db, user.login_key, t.clock.now());
    await thief.get("/login");
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await submitPassword(thief, user.login_id, `guess ${i}`)).statusCode);
    expect(statuses).toContain(429);
  });

  it("a signed-in session is not counted on its own account's forms, even from a browser that dropped its device cookie", async () => {
    t = await createTestApp({ database, env: { FAMOS_RATE_LIMIT: "3" } });
    const http = overHttp(await listen(t));
    const user = await addUser(t.deps);
    const { client } = await signIn(t, { user, client: new FormClient(http), page: "/profile" });
    for (const name of [...client.cookies.keys()]) if (name.endsWith("famos_device")) client.cookies.delete(name);
    expect((await client.get("/profile")).statusCode).toBe(200);
    for (let i = 0; i < 5; i += 1) {
      await client.get("/profile");
      const answer = await client.post("/profile/language", { locale: "en-GB", timeZone: "Europe/London" });
      expect(answer.statusCode, `post ${i + 1}`).toBe(303);
    }
    // Its own login ID at sign-in (signing in again in the same browser) is its own request too.
    for (let i = 0; i < 3; i += 1) {
      const answer = await submitPassword(client, user.login_id.toUpperCase(), `typo ${i}`);
      expect(answer.statusCode, `own login ID ${i + 1}`).toBe(401);
    }
  });

  it("a signed-in session posting other login IDs at sign-in is counted as a stranger (an insider spraying colleagues' passwords)", async () => {
    t = await createTestApp({ database, env: { FAMOS_RATE_LIMIT: "3" } });
    const http = overHttp(await listen(t));
    const user = await addUser(t.deps);
    // Its password spent one of the address's three at sign-in.
    const { client } = await signIn(t, { user, client: new FormClient(http), page: "/profile" });
    await client.get("/login");
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await client.post("/login", { loginId: `colleague${i}`, password: "Summer2026!!" })).statusCode);
    expect(statuses).toEqual([401, 401, 429]);
    expect((await client.get("/profile")).statusCode, "its own session goes on").toBe(200);
  });
});
