import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

/**
 * "Later" on "User profile" clicked twice at once, over HTTP: one click opens the portal, and the
 * other, whatever order they take, never answers "There are no more 'Later' choices" beside an offer
 * still saying "2 of 3 left" (red team 2026-12-07). Only one "Later" is used.
 */
describe.each(DIALECTS)("a double click on 'Later' (%s)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_2FA_GRACE_SIGNINS: "3" } });
  });
  afterAll(async () => t?.close());

  it("five rounds: both clicks answer 303, neither 409, and one 'Later' is used", async () => {
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(t.deps, { email: null });
      const browser = new FormClient(t.app);
      expect((await submitPassword(browser, user.login_id, user.password)).headers.location).toBe("/enrol");
      await browser.get("/enrol");
      const answers = await Promise.all([browser.post("/enrol/later", {}), browser.post("/enrol/later", {})]);
      expect(answers.map((a) => a.statusCode), `round ${round}`).toEqual([303, 303]);
      const row = await t.deps.db.selectFrom("rollout_users").select("grace_used").where("user_id", "=", user.id).executeTakeFirstOrThrow();
      expect(Number(row.grace_used)).toBe(1);
    }
  });
});
