import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DONE_CLAIM_MS } from "../../src/audit/own-events.ts";
import { saidOn as said } from "./done-claims.ts";
import { type TestApp } from "../support/app.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import type { FormClient } from "../support/client.ts";


/**
 * Rollout's `?done=` words (rollout.ts rolloutDone) only after the reader's own change of the plan within
 * DONE_CLAIM_MS: a start saved for the "saved" words, a wave removed for "removed".
 */
describe("Rollout's ?done= claims (sqlite)", () => {
  let t: TestApp;
  let support: FormClient;
  let admin: FormClient;
  beforeAll(async () => {
    ({ t, support, admin } = await consoleWithStaff("sqlite", { support: "sup.rclaims", admin: "adm.rclaims" }));
  });
  afterAll(async () => t?.close());

  const DONES = ["set", "set-nobody", "set-past", "removed", "told"];

  it("crafted links say nothing; a saved start and a removed wave say so to the administrator who did it only", async () => {
    for (const done of DONES) expect(await said(admin, `/support/rollout?done=${done}`), done).toBeNull();
    await admin.get("/support/rollout");
    const set = (await admin.post("/support/rollout/plan", { partner: "4711", from: "2031-03-03T07:00" })).headers.location as string;
    expect(set).toMatch(/^\/support\/rollout\?done=set/);
    expect(await said(admin, set)).toContain("The start was saved");
    expect(await said(support, set)).toBeNull();
    // A start was saved, no wave removed.
    expect(await said(admin, "/support/rollout?done=removed")).toBeNull();

    const removed = (await admin.post("/support/rollout/plan/remove", { partner: "4711" })).headers.location as string;
    expect(removed).toBe("/support/rollout?done=removed");
    expect(await said(admin, removed)).toContain("The wave was removed.");
    expect(await said(support, removed)).toBeNull();
    t.clock.advance(DONE_CLAIM_MS);
    expect(await said(admin, removed)).toBeNull();
    expect(await said(admin, set)).toBeNull();
  });
});
