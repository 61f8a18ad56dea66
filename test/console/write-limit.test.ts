import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { CONSOLE_ACTIONS_LIMIT, CONSOLE_ACTIONS_WINDOW_MS } from "../../src/regulation/console-actions.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, type TestUser } from "../support/client.ts";

/**
 * A support account changes at most CONSOLE_ACTIONS_LIMIT things in the console per
 * CONSOLE_ACTIONS_WINDOW_MS, counted in the database (so across instances): enough for a busy day,
 * too few for a stolen cookie to take over accounts at scale.
 */
describe.each(["sqlite", "postgres"] as const)("support console: a limit on each person's changes (%s)", (database) => {
  let t: TestApp;
  let other: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
    // A second instance on the same database and clock, as behind a load balancer.
    other = await createTestApp({ database, clock: t.clock, env: { FAMOS_DATABASE_URL: t.config.databaseUrl } });
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  async function signedInSupport(): Promise<{ person: TestUser; client: FormClient }> {
    const person = await addUser(t.deps, { role: "support" });
    const client = new FormClient(t.app, "10.3.3.3");
    await signInFully(client, t.smtp, person);
    return { person, client };
  }

  it("is generous: 60 in 10 minutes", () => {
    expect(CONSOLE_ACTIONS_LIMIT).toBe(60);
    expect(CONSOLE_ACTIONS_WINDOW_MS).toBe(10 * 60_000);
  });

  it("past the limit, across two instances, a change is refused with a 429 page saying until when, audited once; a colleague is not held up; later it works again", async () => {
    const { person, client } = await signedInSupport();
    const user = await addUser(t.deps);
    await client.get(`/support/users/${user.id}`);
    // The same browser on the other instance (same cookies, same database).
    const elsewhere = new FormClient(other.app, "10.3.3.3");
    for (const [name, value] of client.cookies) elsewhere.cookies.set(name, value);
    elsewhere.csrf = client.csrf;
    for (let i = 0; i < CONSOLE_ACTIONS_LIMIT; i += 1) {
      const via = i % 2 === 0 ? client : elsewhere;
      expect((await via.post(`/support/users/${user.id}/unlock`, {})).statusCode, `action ${i + 1}`).toBe(303);
    }
    for (const via of [client, elsewhere]) {
      const refused = await via.post(`/support/users/${user.id}/unlock`, {});
      expect(refused.statusCode).toBe(429);
      expect(refused.body).toContain("You have made 60 changes in the console in the last 10 minutes");
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    }
    expect(await queryAudit(t.deps.db, { event: "unlock", subject: user.login_id })).toHaveLength(CONSOLE_ACTIONS_LIMIT);
    const hits = await queryAudit(t.deps.db, { event: "console.limit-reached" });
    expect(hits.filter((h) => h.actor === person.login_id)).toHaveLength(1);
    expect(hits[0]!.detail).toMatchObject({ limit: 60 });

    // Pages are not changes: reading goes on.
    expect((await client.get(`/support/users/${user.id}`)).statusCode).toBe(200);
    // A colleague's count is their own.
    const colleague = await signedInSupport();
    await colleague.client.get(`/support/users/${user.id}`);
    expect((await colleague.client.post(`/support/users/${user.id}/unlock`, {})).statusCode).toBe(303);

    t.clock.advance(CONSOLE_ACTIONS_WINDOW_MS / 2);
    await client.get(`/support/users/${user.id}`);
    t.clock.advance(CONSOLE_ACTIONS_WINDOW_MS / 2);
    expect((await client.post(`/support/users/${user.id}/unlock`, {})).statusCode).toBe(303);
  });

  it("counts changes made, not refusals: 70 refused resets (a wrong name) leave the person's whole limit", async () => {
    const { client } = await signedInSupport();
    const user = await addUser(t.deps, { fullName: "Jane Smith", partnerNumber: "01234", email: "kept@dealer.example" });
    await client.get(`/support/users/${user.id}`);
    const request = { name: "Not Her", loginId: user.login_id, partnerNumber: "01234", ticket: "INC7" };
    for (let i = 0; i < 70; i += 1) expect((await client.post(`/support/users/${user.id}/reset/confirm`, request)).statusCode).toBe(400);
    for (let i = 0; i < CONSOLE_ACTIONS_LIMIT; i += 1) expect((await client.post(`/support/users/${user.id}/unlock`, {})).statusCode, `change ${i + 1}`).toBe(303);
    expect((await client.post(`/support/users/${user.id}/unlock`, {})).statusCode).toBe(429);
  });

  it("counts posting notices too", async () => {
    const { client } = await signedInSupport();
    await client.get("/support/notices");
    for (let i = 0; i < CONSOLE_ACTIONS_LIMIT; i += 1) expect((await client.post("/support/notices", { title: `N${i}`, body: "." })).statusCode).toBe(303);
    expect((await client.post("/support/notices", { title: "one more", body: "." })).statusCode).toBe(429);
  });
});
