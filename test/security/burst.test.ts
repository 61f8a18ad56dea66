import { afterEach, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

/**
 * Issue 19.1: a lock must stop a burst. Each attempt is counted before its password is verified, in
 * the statement that checks the limit, so however many arrive at once — on two instances sharing the
 * database — at most FAMOS_LOCK_AFTER wrong passwords are ever evaluated within a lock period.
 */
describe.each(DIALECTS)("a burst of guesses (%s)", (dialect) => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    // The second instance shares the first one's database: close it first.
    for (const app of apps.splice(0).reverse()) await app.close();
  });

  const evaluated = async (t: TestApp, subject: string) => {
    const rows = await t.deps.db.selectFrom("audit").select("detail").where("event", "=", "password.failed").where("subject", "=", subject).execute();
    return rows.filter((r) => (JSON.parse(r.detail) as { reason?: string }).reason === "wrong-password").length;
  };

  it("50 wrong passwords in parallel from three addresses on two instances, then the right one: 5 evaluated, the right one refused", async () => {
    const a = await createTestApp({ database: dialect });
    apps.push(a);
    const b = await createTestApp({ env: { FAMOS_DATABASE_URL: a.config.databaseUrl }, clock: a.clock });
    apps.push(b);
    const user = await addUser(a.deps);
    const clients = Array.from({ length: 51 }, (_, i) => new FormClient((i % 2 ? b : a).app, `198.51.100.${10 + (i % 3)}`));
    await Promise.all(clients.map((c) => c.get("/login")));

    const answers = await Promise.all(clients.slice(0, 50).map((c, i) => c.post("/login", { loginId: user.login_id, password: `wrong guess ${i}` })));
    expect(answers.every((r) => r.statusCode === 401)).toBe(true);
    const right = await clients[50]!.post("/login", { loginId: user.login_id, password: user.password });
    expect(right.statusCode).toBe(401);
    expect(right.body).toContain("paused on new browsers");
    expect(await evaluated(a, user.login_key)).toBe(5);
    const sessions = await a.deps.db.selectFrom("sessions").select("id").where("user_id", "=", user.id).execute();
    expect(sessions).toEqual([]);
  });

  it("Profile's current-password step: 30 wrong passwords in parallel from the user's own browser evaluate at most FAMOS_DEVICE_LOCK_AFTER", async () => {
    const t = await createTestApp({ database: dialect });
    apps.push(t);
    const user = await addUser(t.deps);
    const client = new FormClient(t.app, "198.51.100.20");
    await signInFully(client, t.smtp, user);
    await client.get("/profile");
    const fresh = "a brand new password 2026";
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => client.post("/profile/password", { currentPassword: `wrong current ${i}`, newPassword: fresh, confirmNewPassword: fresh })),
    );
    expect(answers.filter((r) => r.statusCode === 401)).toHaveLength(10);
    expect(answers.filter((r) => r.statusCode === 429)).toHaveLength(20);
    const right = await client.post("/profile/password", { currentPassword: user.password, newPassword: fresh, confirmNewPassword: fresh });
    expect(right.statusCode).toBe(429);
    expect(await evaluated(t, user.login_key)).toBe(10);
  });
});
