import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { failingStatements, type FailingStatements } from "../store/fail-after-commit.ts";
import { factorsOf } from "../../src/strong-factors/factors.ts";
import { appCode, recoveryCodesFrom, secretFrom, setUpAppOnProfile } from "../strong-factors/helpers.ts";

const BUSY = "FAMOS is busy at the moment and could not finish your request";

/**
 * A request whose action has committed answers with what happened, even when the database fails at
 * the first statement after the commit: the user is not told "could not finish, try again" about a
 * code that is now used up, a session that has moved on, recovery codes or a temporary password shown
 * only once. A failure before the commit is still the busy page (503), and nothing of it is kept.
 */
describe.each(DIALECTS)("the database failing after a request's commit (%s)", (dialect) => {
  let t: TestApp;
  let failing: FailingStatements;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect });
    failing = failingStatements();
  });
  afterEach(() => failing.disarm());
  afterAll(async () => {
    failing?.restore();
    await t?.close();
  });

  const codeUsed = async (userId: string) =>
    (await t.deps.db.selectFrom("codes").innerJoin("flows", "flows.id", "codes.flow_id").select("codes.consumed_at").where("flows.user_id", "=", userId).execute()).some(
      (row) => row.consumed_at !== null,
    );

  it("the code step: the right code signs in (303 on), the session is signed in, and nothing needs sending again", async () => {
    const { client, code, user } = await signIn(t, { until: "otp" });
    failing.arm("after-commit");
    const answer = await client.post("/otp", { code: code! });
    failing.disarm();
    expect(answer.body).not.toContain(BUSY);
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe("/");
    expect(await codeUsed(user.id)).toBe(true);
    // The browser's next page is the portal: the session holds the new token, signed in.
    expect((await client.get("/profile")).statusCode).toBe(200);
  });

  it("the code step: a failure before the commit is still 503, the code unused, and the same code signs in after", async () => {
    const { client, code, user } = await signIn(t, { until: "otp" });
    failing.arm("before-commit");
    const answer = await client.post("/otp", { code: code! });
    expect(failing.failed()).toMatch(/^\s*commit/i);
    expect(answer.statusCode).toBe(503);
    expect(answer.headers["retry-after"]).toBe("5");
    expect(answer.body).toContain(BUSY);
    expect(await codeUsed(user.id)).toBe(false);
    expect((await client.get("/")).headers.location).toBe("/otp");
    await client.get("/otp");
    expect((await client.post("/otp", { code: code! })).statusCode).toBe(303);
    expect((await client.get("/profile")).statusCode).toBe(200);
  });

  it("enrolment: the address's code went out and the session moved on to OTP capture, with its new cookie and the browser's language kept", async () => {
    // A German browser: its language is saved for a user with none (a browser asking for none saves nothing).
    const german = new FormClient(t.app, "127.0.0.1", { "accept-language": "de-DE,de;q=0.9" });
    const { client, user } = await signIn(t, { until: "enrol", user: await addUser(t.deps, { email: null }), client: german });
    failing.arm("after-commit");
    const answer = await client.post("/enrol", { email: `${user.login_id}@dealer.example`, confirmEmail: `${user.login_id}@dealer.example` });
    failing.disarm();
    expect(answer.body).not.toContain(BUSY);
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toMatch(/^\/otp/);
    expect((await client.get("/otp")).statusCode).toBe(200);
    expect((await findUserById(t.deps.db, user.id))?.locale).toBe("de");
  });

  it("Profile → Generate new recovery codes: the new set is shown, the one time it can be", async () => {
    const { client } = await signIn(t);
    await setUpAppOnProfile(t, client);
    await client.get("/profile");
    failing.arm("after-commit");
    const renewed = await client.post("/profile/recovery-codes", {});
    failing.disarm();
    expect(renewed.statusCode).toBe(200);
    expect(recoveryCodesFrom(renewed.body)).toHaveLength(10);
  });

  it("Profile → Set up authenticator app: the confirming code shows the recovery codes, and the app counts", async () => {
    const { client, user } = await signIn(t);
    await client.get("/profile");
    expect((await client.post("/profile/app", {})).headers.location).toBe("/profile/app");
    const secret = secretFrom((await client.get("/profile/app")).body);
    failing.arm("after-commit");
    const confirmed = await client.post("/profile/app/confirm", { code: await appCode(secret, t.clock.now()) });
    failing.disarm();
    expect(confirmed.statusCode).toBe(200);
    expect(recoveryCodesFrom(confirmed.body)).toHaveLength(10);
    expect((await factorsOf(t.deps.db, user.id)).app).not.toBeNull();
  });

  it("sign-out: its audit line failing keeps nothing, so the busy page is true and signing out again works", async () => {
    const { client, user } = await signIn(t);
    failing.arm(/^insert into "audit"/);
    const answer = await client.post("/logout", {});
    expect(failing.failed()).toMatch(/^insert into "audit"/);
    expect(answer.statusCode).toBe(503);
    // The session was not ended behind the busy page: the browser is still signed in.
    expect((await client.get("/profile")).statusCode).toBe(200);
    const again = await client.post("/logout", {});
    expect(again.headers.location).toBe("/login?signedOut=1");
    expect((await client.get("/profile")).statusCode).toBe(303);
    const audited = await t.deps.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).where("event", "=", "signout").execute();
    expect(audited).toHaveLength(1);
  });

  it("Profile → Set up authenticator app: its audit line failing starts no setup, and starting again works", async () => {
    const { client, user } = await signIn(t);
    await client.get("/profile");
    failing.arm(/^insert into "audit"/);
    const answer = await client.post("/profile/app", {});
    expect(failing.failed()).toMatch(/^insert into "audit"/);
    expect(answer.statusCode).toBe(503);
    expect(await t.deps.db.selectFrom("authenticator_apps").select("user_id").where("user_id", "=", user.id).execute()).toEqual([]);
    await client.get("/profile");
    expect((await client.post("/profile/app", {})).headers.location).toBe("/profile/app");
    const audited = await t.deps.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).where("event", "=", "app.setup-started").execute();
    expect(audited).toHaveLength(1);
  });

  it("the console's new user: the temporary password is shown, the one time it can be", async () => {
    const { client } = await signIn(t, { role: "support" });
    await client.get("/support/users/new");
    failing.arm("after-commit");
    const loginId = `after.commit.${dialect}`;
    const created = await client.post("/support/users/new", { loginId, fullName: "After Commit", partnerNumber: "7701", role: "user", email: "" });
    failing.disarm();
    expect(created.body).not.toContain(BUSY);
    expect(created.statusCode).toBe(200);
    expect(created.body).toMatch(/class="secret">[^<]+</);
  });
});
