import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { logStatements } from "../support/statement-log.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * SPEC item 1 and "Locks": a paused login ID is refused alike whether an account has it or not. Since
 * 3ff46db a refusal runs the reservation's statement (its condition refusing) and then the read of the
 * pause: the same statements, in the same order, for an account's login ID and for one no account has,
 * so neither the answer (security/enumeration) nor the work behind it tells them apart.
 */
describe("a paused login ID's refusal: the same statements, account or not (SQLite)", () => {
  let t: UnitApp;
  let log: ReturnType<typeof logStatements>;
  beforeAll(async () => {
    t = await createUnitApp();
    log = logStatements();
  });
  afterAll(async () => {
    log.stop();
    await t.close();
  });

  /** Pauses the login ID from one address, then records a refused attempt from another. */
  async function refused(loginId: string, password: string): Promise<string[]> {
    for (let i = 0; i < t.deps.config.lock.after; i += 1) await submitPassword(new FormClient(t.app, "203.0.113.70"), loginId, `wrong guess ${i}`);
    const client = new FormClient(t.app, "192.0.2.70");
    await client.get("/login");
    let body = "";
    const sqls = await log.record(async () => {
      body = (await client.post("/login", { loginId, password })).body;
    });
    expect(body).toContain("paused on new browsers until");
    return sqls.map((s) => s.replace(/\s+/g, " ").trim());
  }

  it("an account's login ID (with its right password) and an unknown one", async () => {
    const user = await addUser(t.deps, { loginId: "paused-known" });
    const known = await refused(user.login_id, user.password);
    const unknown = await refused("paused-nobody", "some password here");
    expect(unknown).toEqual(known);
    // The reservation is asked, and refuses, before anything else is read of the counters.
    expect(known.findIndex((s) => /^insert into "throttles"/i.test(s))).toBeGreaterThanOrEqual(0);
  });
});
