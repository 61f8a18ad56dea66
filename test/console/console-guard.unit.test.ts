import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { CONSOLE_ACTIONS_LIMIT, CONSOLE_ACTIONS_WINDOW_MS } from "../../src/regulation/console-actions.ts";
import { CONSOLE_RECENT_CODE_MS } from "../../src/profile/reauthenticate.ts";
import { addUser } from "../support/app.ts";
import { signIn, type FormClient, type TestUser } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * The console's guard (src/web/console-guard.ts) through the unit tier's app: a route marked
 * `consoleWrite` is counted (given back when it answers 4xx), refused with 429 and Retry-After past
 * the limit, and a "step-up" route asks the password again once the session's code is an hour old,
 * the step-up field taken out of the form before the route reads it. The integration tier
 * (test/console/write-limit, step-up*) walks the same over both databases.
 */
describe("the console's guard (unit tier)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  async function support(role: "support" | "admin" = "support"): Promise<{ client: FormClient; person: TestUser }> {
    const { client, user } = await signIn(u, { role });
    return { client, person: user as TestUser };
  }
  /** The session's code confirmed `ago` ms before now (as if the hour had passed with the person at work). */
  async function codeAge(person: TestUser, ago: number): Promise<void> {
    await u.deps.db.updateTable("sessions").set({ verified_at: u.clock.now() - ago, stepped_up_at: null }).where("user_id", "=", person.id).where("ended_at", "is", null).execute();
  }
  const counter = async (person: TestUser) => (await u.deps.db.selectFrom("throttles").select(["failures", "locked_until"]).where("key", "=", `console:${person.id}`).executeTakeFirst()) ?? null;
  const unlock = async (client: FormClient, user: TestUser, fields: Record<string, string> = {}) => {
    await client.get(`/support/users/${user.id}`);
    return client.post(`/support/users/${user.id}/unlock`, fields);
  };

  it("counts a change made (3xx) and gives back a refused one (400, 404)", async () => {
    const { client, person } = await support();
    const user = await addUser(u.deps, { email: "kept@dealer.example" });
    expect((await unlock(client, user)).statusCode).toBe(303);
    expect(await counter(person)).toMatchObject({ failures: 1 });
    const wrongName = await client.post(`/support/users/${user.id}/reset/confirm`, { name: "Not Them", loginId: user.login_id, partnerNumber: user.partner_number, ticket: "INC7" });
    expect(wrongName.statusCode).toBe(400);
    expect(await counter(person)).toMatchObject({ failures: 1 });
    expect((await client.post("/support/notices/nosuchnotice/end", {})).statusCode).toBe(404);
    expect(await counter(person)).toMatchObject({ failures: 1 });
    // A page is not a change.
    expect((await client.get(`/support/users/${user.id}`)).statusCode).toBe(200);
    expect(await counter(person)).toMatchObject({ failures: 1 });
  });

  it("past the limit answers 429 with the page and Retry-After to the pause's end, then lets changes through again", async () => {
    const { client, person } = await support();
    const user = await addUser(u.deps);
    await u.deps.db.insertInto("throttles").values({ key: `console:${person.id}`, failures: CONSOLE_ACTIONS_LIMIT - 1, locked_until: 0, hard_locked: 0, updated_at: u.clock.now(), window_started_at: u.clock.now() }).execute();
    expect((await unlock(client, user)).statusCode).toBe(303);
    const limitAudits = (await queryAudit(u.deps.db, { event: "console.limit-reached" })).filter((e) => e.actor === person.login_id);
    expect(limitAudits).toHaveLength(1);
    u.clock.advance(1500);
    const refused = await unlock(client, user);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(refused.headers["retry-after"]).toBe(String(Math.ceil((CONSOLE_ACTIONS_WINDOW_MS - 1500) / 1000)));
    expect(refused.body).toContain("You have made 60 changes in the console in the last 10 minutes");
    u.clock.advance(CONSOLE_ACTIONS_WINDOW_MS - 1500 - 400);
    // 400 ms left: Retry-After rounds up to a whole second, never 0.
    const last = await unlock(client, user);
    expect(last.statusCode).toBe(429);
    expect(last.headers["retry-after"]).toBe("1");
    u.clock.advance(400);
    expect((await unlock(client, user)).statusCode).toBe(303);
  });

  it("a counted route is not asked the password, however old the code", async () => {
    const { client, person } = await support();
    await codeAge(person, 2 * CONSOLE_RECENT_CODE_MS);
    await client.get("/support/notices");
    expect((await client.post("/support/notices/nosuchnotice/end", {})).statusCode).toBe(404);
  });

  it("a step-up route asks the password at an hour, keeping the form, and goes on with the right one", async () => {
    const { client, person } = await support();
    const user = await addUser(u.deps, { email: "kept.too@dealer.example" });
    await codeAge(person, CONSOLE_RECENT_CODE_MS - 1000);
    expect((await unlock(client, user)).statusCode).toBe(303);
    await codeAge(person, CONSOLE_RECENT_CODE_MS);
    await client.get(`/support/users/${user.id}`);
    const fields = { name: user.full_name, loginId: user.login_id, partnerNumber: user.partner_number, ticket: "INC8" };
    const asked = await client.post(`/support/users/${user.id}/reset/confirm?from=list`, fields);
    expect(asked.statusCode).toBe(401);
    expect(asked.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(asked.body).toContain("Confirm it is you");
    expect(asked.body).toContain(`action="/support/users/${user.id}/reset/confirm"`);
    expect(asked.body).toContain(`<input type="hidden" name="ticket" value="INC8">`);
    expect(asked.body).toContain(`<input type="hidden" name="loginId" value="${user.login_id}">`);
    // One CSRF token per form: the action's own is not kept beside the page's.
    expect(asked.body.split('name="_csrf"').length).toBe(asked.body.split("<form").length);
    expect(asked.body).not.toContain('type="hidden" name="stepUpPassword"');
    expect(asked.body).toContain(`href="/support/users/${user.id}"`);
    expect(asked.body).not.toContain("The password is not right");
    expect(asked.body).not.toContain('aria-invalid="true"');
    expect(await counter(person)).toMatchObject({ failures: 1 });

    const wrong = await client.post(`/support/users/${user.id}/reset/confirm`, { ...fields, stepUpPassword: "not the password" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("The password is not right. Check it and try again.");
    expect(wrong.body).toContain('aria-invalid="true"');

    const right = await client.post(`/support/users/${user.id}/reset/confirm`, { ...fields, stepUpPassword: person.password });
    expect(right.statusCode).toBe(303);
    expect(await counter(person)).toMatchObject({ failures: 2 });
    // The step-up's audit names the action by its route, not by the address typed.
    const passed = (await queryAudit(u.deps.db, { event: "console.step-up-passed" })).filter((e) => e.actor === person.login_id);
    expect(passed.map((e) => e.detail)).toEqual([{ action: "POST /support/users/:id/reset/confirm" }]);
  });

  it("a step-up password that is not text is refused with 400; an empty one asks again", async () => {
    const { client, person } = await support();
    const user = await addUser(u.deps);
    await codeAge(person, 2 * CONSOLE_RECENT_CODE_MS);
    await client.get(`/support/users/${user.id}`);
    const twice = await u.app.inject({
      method: "POST",
      url: `/support/users/${user.id}/unlock`,
      headers: { "user-agent": "famos-test", cookie: client.cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
      remoteAddress: client.ip,
      payload: `_csrf=${encodeURIComponent(client.csrf!)}&stepUpPassword=a&stepUpPassword=b`,
    });
    expect(twice.statusCode).toBe(400);
    // Named by its label on the step-up form, not FAMOS's own field name (QA: field-labels.test.ts).
    expect(twice.body).toContain("The field “Password” is missing or not text.");
    expect(twice.body).not.toContain("stepUpPassword&quot;");
    expect((await unlock(client, user, { stepUpPassword: "" })).statusCode).toBe(401);
  });

  it("a paused password answers 429 with the pause", async () => {
    const { client, person } = await support();
    const user = await addUser(u.deps);
    await codeAge(person, 2 * CONSOLE_RECENT_CODE_MS);
    // Without the browser's device cookie, the login ID's pause applies (a known device has its own, later one).
    for (const name of [...client.cookies.keys()]) if (name.endsWith("famos_device")) client.cookies.delete(name);
    for (let i = 0; i < 5; i += 1) expect((await unlock(client, user, { stepUpPassword: "not the password" })).statusCode).toBe(401);
    const paused = await unlock(client, user, { stepUpPassword: person.password });
    expect(paused.statusCode).toBe(429);
    expect(paused.body).toContain("Confirm it is you");
    expect(paused.body).not.toContain("The password is not right");
    expect(paused.body).toContain('aria-invalid="true"');
    expect(paused.body).toContain("Sign-in with this login ID is paused on new browsers until");
  });

  it("the Cancel of an action outside a user's page leads back to its section", async () => {
    const { client, person } = await support();
    await codeAge(person, 2 * CONSOLE_RECENT_CODE_MS);
    await client.get("/support/addresses");
    const asked = await client.post("/support/addresses/unlock", { address: "someone@dealer.example" });
    expect(asked.statusCode).toBe(401);
    expect(asked.body).toContain('href="/support/addresses"');
  });
});
