import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser, enableUser } from "../../src/account/disable.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { startExampleApp } from "../web/protected-support.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/** Issue 11, item 3: a leaver is cut off at once, everywhere, and cannot tell that from a wrong password. */
describe("disabling an account", () => {
  let t: TestApp;
  let upstream: Awaited<ReturnType<typeof startExampleApp>>;
  beforeAll(async () => {
    upstream = await startExampleApp();
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: upstream.url } });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.stop();
  });

  const nginx = (client: FormClient) => t.app.inject({ method: "GET", url: "/auth/nginx", headers: { cookie: client.cookieHeader() } });

  it("refuses the next portal request, /auth/nginx and a proxied path of a user disabled while signed in", async () => {
    const user = await addUser(t.deps, { loginId: "leaver.one" });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    // A second browser half-way through sign-in, with a code on its way.
    const halfway = new FormClient(t.app);
    await submitPassword(halfway, user.login_id, user.password);
    expect((await client.get("/")).statusCode).toBe(200);
    expect((await nginx(client)).statusCode).toBe(200);
    expect((await client.get("/quotation")).statusCode).toBe(200);

    const outcome = await disableUser(t.deps, operator, user.id);
    expect(outcome).toMatchObject({ kind: "disabled", sessionsEnded: 2 });

    expect((await nginx(client)).statusCode).toBe(401);
    const proxied = await client.get("/quotation");
    expect(proxied.statusCode).toBe(303);
    expect(proxied.headers.location).toMatch(/^\/login/);
    expect((await client.get("/profile")).headers.location).toMatch(/^\/login/);
    expect((await halfway.get("/otp")).headers.location).toMatch(/^\/login/);
    const live = await t.deps.db.selectFrom("codes").select("id").where("user_id", "=", user.id).where("voided_at", "is", null).where("consumed_at", "is", null).execute();
    expect(live).toEqual([]);
    const events = (await queryAudit(t.deps.db, { subject: "leaver.one" })).map((e) => e.event);
    expect(events).toContain("user.disabled");
  });

  it("answers a disabled user's right password exactly as a wrong one, and lets them in again once enabled", async () => {
    const user = await addUser(t.deps, { loginId: "leaver.two" });
    await disableUser(t.deps, operator, user.id);
    const disabled = await submitPassword(new FormClient(t.app), user.login_id, user.password);
    const wrong = await submitPassword(new FormClient(t.app), "leaver.two", "not the password at all");
    expect(disabled.statusCode).toBe(401);
    expect(disabled.body.replace(/name="_csrf" value="[^"]+"/, "")).toBe(wrong.body.replace(/name="_csrf" value="[^"]+"/, ""));
    const failed = await queryAudit(t.deps.db, { subject: "leaver.two", event: "password.failed" });
    expect(failed.map((e) => e.detail.reason)).toContain("disabled");

    expect((await disableUser(t.deps, operator, user.id)).kind).toBe("unchanged");
    expect((await enableUser(t.deps, operator, user.id)).kind).toBe("enabled");
    expect((await submitPassword(new FormClient(t.app), user.login_id, user.password)).headers.location).toBe("/otp");
  });

  it("refuses a session of a disabled account even if it was not ended (the check on every request)", async () => {
    const user = await addUser(t.deps, { loginId: "leaver.three" });
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    await t.deps.db.updateTable("users").set({ disabled_at: t.clock.now() }).where("id", "=", user.id).execute();
    expect((await nginx(client)).statusCode).toBe(401);
    expect((await client.get("/quotation")).statusCode).toBe(303);
  });
});
