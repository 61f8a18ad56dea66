import type { FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { readPlan } from "../../src/rollout/plan.ts";
import type { Acting } from "../../src/support/acting.ts";
import { changeRole } from "../../src/support/roles.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";

const REFUSED = "Your role does not give access to this page.";

/**
 * The Rollout form's routes (POST /support/rollout/plan and /plan/remove, web/routes/rollout.ts) answer
 * changeWave's refusal of an administrator demoted after the request's session was read (and its role
 * checked by web/auth.ts) with a 403, and no start changes, no rollout.planned is written. The demotion
 * is made by a hook of the test's own, run after the session's read and before the route's step-up and
 * handler, as a colleague's change committed while the step-up checks the typed password would be;
 * plan-actor-changed.test says the same of changeWave itself.
 */
describe.each(["sqlite", "postgres"] as const)("Rollout form: an administrator demoted after the request's session was read (%s)", (database) => {
  let t: TestApp;
  let demote: { path: string; person: User; by: User } | null = null;
  const actingAs = (user: User): Acting => ({ user, audit: { actor: user.login_id, ip: "192.0.2.62", userAgent: "plan-actor-changed-route" } });
  const planned = async (actor: string) => (await queryAudit(t.deps.db, { event: "rollout.planned" })).filter((e) => e.actor === actor);

  beforeAll(async () => {
    t = await createTestApp({
      database,
      beforeReady: (app) =>
        app.addHook("preHandler", async (request: FastifyRequest) => {
          const armed = demote;
          if (armed === null || request.method !== "POST" || request.url !== armed.path) return;
          demote = null;
          expect((await changeRole(t.deps, actingAs(armed.by), (await findUserById(t.deps.db, armed.person.id))!, "support")).kind).toBe("changed");
        }),
    });
  });
  afterAll(async () => t?.close());

  for (const [path, form] of [
    ["/support/rollout/plan", { partner: "7901", from: "2027-03-01T07:00" }],
    ["/support/rollout/plan/remove", { partner: "7901" }],
  ] as const) {
    it(`${path}: 403, the plan as it was, no rollout.planned`, async () => {
      const [other, person] = [await addUser(t.deps, { role: "admin" }), await addUser(t.deps, { role: "admin" })];
      const admin = new FormClient(t.app);
      await signInFully(admin, t.smtp, person);
      // A start to change or remove, set by the other administrator.
      const set = new FormClient(t.app);
      await signInFully(set, t.smtp, other);
      await set.get("/support/rollout");
      expect((await set.post("/support/rollout/plan", { partner: "7901", from: "2027-02-01T07:00" })).statusCode).toBe(303);
      const before = await readPlan(t.deps.db);

      expect((await admin.get("/support/rollout")).statusCode).toBe(200);
      demote = { path, person, by: other };
      const answer = await admin.post(path, form);
      expect(demote).toBeNull();
      expect(answer.statusCode).toBe(403);
      expect(answer.body).toContain(REFUSED);
      expect(await readPlan(t.deps.db)).toEqual(before);
      expect(await planned(person.login_id)).toEqual([]);
      expect((await findUserById(t.deps.db, person.id))!.role).toBe("support");
    });
  }

  it("an administrator still one changes it (the control)", async () => {
    const admin = new FormClient(t.app);
    const person = await addUser(t.deps, { role: "admin" });
    await signInFully(admin, t.smtp, person);
    await admin.get("/support/rollout");
    expect((await admin.post("/support/rollout/plan", { partner: "7902", from: "2027-02-01T07:00" })).statusCode).toBe(303);
    expect(await planned(person.login_id)).toHaveLength(1);
  });
});
