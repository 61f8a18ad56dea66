import { describe, expect, it } from "vitest";
import { announceRollout } from "../../src/rollout/announce.ts";
import { addUser } from "../support/app.ts";
import { appOverHttp } from "../support/app-over-http.ts";
import { snapshot } from "../security/helpers.ts";

/**
 * SPEC "Bad input": the Rollout page's Remove for a start the plan does not hold (a second tab, a
 * double click, a colleague first, a crafted partner number) says so and changes nothing. It used to
 * answer "The wave was removed." for a wave that was never there, as if it had done something.
 */
describe("Rollout: Remove of a start the plan does not hold", () => {
  const served = appOverHttp();

  it("is refused with its reason on the page, for a partner's start and the default, storing nothing; a real removal still says removed", async () => {
    const client = await served.admin("/support/rollout");
    expect((await client.post("/support/rollout/plan", { partner: "04711", from: "2027-01-11T07:00" })).statusCode).toBe(303);
    await client.get("/support/rollout");
    const removed = await client.post("/support/rollout/plan/remove", { partner: "04711" });
    expect(removed.statusCode).toBe(303);
    expect(removed.headers.location).toBe("/support/rollout?done=removed");
    expect((await client.get(removed.headers.location as string)).body).toContain("The wave was removed.");

    for (const [partner, words] of [
      ["04711", "Partner 04711 has no start to remove: the plan below is as it stands."],
      ["4711", "Partner 4711 has no start to remove: the plan below is as it stands."],
      ["", "There is no default start to remove: the plan below is as it stands."],
    ] as const) {
      const before = await snapshot(served.t.deps.db);
      const plan = await served.t.deps.db.selectFrom("rollout_plan").selectAll().execute();
      const again = await client.post("/support/rollout/plan/remove", { partner });
      expect(again.statusCode, partner).toBe(409);
      expect(again.body, partner).toContain(words);
      expect(again.body, partner).not.toContain("The wave was removed.");
      expect(await snapshot(served.t.deps.db), partner).toEqual(before);
      expect(await served.t.deps.db.selectFrom("rollout_plan").selectAll().execute(), partner).toEqual(plan);
    }
  });

  it("a start moved or removed after its announcement says its users are mailed the new one by the next announcement", async () => {
    const { t } = served;
    const client = await served.admin("/support/rollout");
    const user = await addUser(t.deps, { email: null, partnerNumber: "9001" });
    await t.deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: "told9@dealer.example", grace_used: 0, announced_at: null }).execute();
    expect((await client.post("/support/rollout/plan", { partner: "9001", from: "2027-01-11T07:00" })).headers.location).toBe("/support/rollout?done=set");
    await announceRollout(t.deps, { partner: "9001", dryRun: false, actor: { actor: "operator:test", ip: "cli", userAgent: "test" } });
    await client.get("/support/rollout");
    const moved = await client.post("/support/rollout/plan", { partner: "9001", from: "2027-01-18T07:00" });
    expect(moved.headers.location).toBe("/support/rollout?done=told");
    expect((await client.get(moved.headers.location as string)).body).toContain("will be mailed the new one by the next announcement");
    await announceRollout(t.deps, { partner: "9001", dryRun: false, actor: { actor: "operator:test", ip: "cli", userAgent: "test" } });
    await client.get("/support/rollout");
    expect((await client.post("/support/rollout/plan/remove", { partner: "9001" })).headers.location).toBe("/support/rollout?done=told");
  });
});
