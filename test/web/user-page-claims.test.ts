import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DONE_CLAIM_MS } from "../../src/audit/own-events.ts";
import { saidOn as said } from "./done-claims.ts";
import { addUser, type TestApp } from "../support/app.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import { FormClient, signInFully } from "../support/client.ts";

const RESET = "The OTP email was reset: the user’s sessions ended, codes already sent no longer work, and the old address was told.";
const UNLOCKED = "The login ID was unlocked";
const ROLE = "The role was changed.";

/**
 * The support user page's `?done=` words for an action (support.ts userDone) are said only after the reader's
 * own audit event of it on this account within DONE_CLAIM_MS (ownRecentEvents): a crafted link on an account
 * nobody touched says nothing, a colleague's action does not make my link say it, and five minutes on (the
 * injected clock) nothing. A double click's second redirect still says it (the first's event).
 */
describe.each(["sqlite", "postgres"] as const)("the support user page's ?done= claims, checked against the reader's own events (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  let admin: FormClient;
  let colleague: FormClient;
  beforeAll(async () => {
    ({ t, support, admin } = await consoleWithStaff(database, { support: "sup.claims", admin: "adm.claims" }));
    colleague = new FormClient(t.app, "10.44.0.2");
    await signInFully(colleague, t.smtp, await addUser(t.deps, { role: "support", loginId: "sup.colleague" }));
  });
  afterAll(async () => t?.close());


  it("crafted links on an untouched account say nothing", async () => {
    const user = await addUser(t.deps, { loginId: "claims.untouched" });
    for (const done of ["reset", "reset-untold", "unlocked", "role", "factors-removed", "keep-unchanged"]) {
      expect(await said(support, `/support/users/${user.id}?done=${done}`), done).toBeNull();
      expect(await said(admin, `/support/users/${user.id}?done=${done}`), done).toBeNull();
    }
  });

  it("a real unlock, role change and reset say their words to the one who did them, and to no colleague", async () => {
    const user = await addUser(t.deps, { loginId: "claims.acted" });
    await support.get(`/support/users/${user.id}`);
    const unlocked = (await support.post(`/support/users/${user.id}/unlock`)).headers.location as string;
    expect(unlocked).toBe(`/support/users/${user.id}?done=unlocked`);
    expect(await said(support, unlocked)).toContain(UNLOCKED);
    expect(await said(colleague, unlocked)).toBeNull();

    await admin.get(`/support/users/${user.id}`);
    const role = (await admin.post(`/support/users/${user.id}/role`, { role: "support" })).headers.location as string;
    expect(role).toBe(`/support/users/${user.id}?done=role`);
    expect(await said(admin, role)).toContain(ROLE);
    expect(await said(support, role)).toBeNull();
    await admin.post(`/support/users/${user.id}/role`, { role: "user" });

    const fields = { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-2026-0077" };
    await colleague.get(`/support/users/${user.id}`);
    expect((await colleague.post(`/support/users/${user.id}/reset`, fields)).statusCode).toBe(200);
    const reset = (await colleague.post(`/support/users/${user.id}/reset/confirm`, fields)).headers.location as string;
    expect(reset).toBe(`/support/users/${user.id}?done=reset`);
    expect(await said(colleague, reset)).toContain(RESET);
    // The reset told the old address: "reset-untold" is not what happened.
    expect(await said(colleague, `/support/users/${user.id}?done=reset-untold`)).toBeNull();
    expect(await said(support, reset)).toBeNull();
  });

  it("factors-removed only when a factor was removed: nothing removed, nothing claimed", async () => {
    const user = await addUser(t.deps, { loginId: "claims.nofactors" });
    await support.get(`/support/users/${user.id}`);
    const removed = (await support.post(`/support/users/${user.id}/factors/confirm`, {})).headers.location as string;
    expect(removed).toBe(`/support/users/${user.id}?done=factors-removed`);
    expect(await said(support, removed)).toBeNull();
  });

  it("a double click of Reset: both redirects say what happened (the second found no confirmed address, told nobody)", async () => {
    const user = await addUser(t.deps, { loginId: "claims.twice" });
    const fields = { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-2026-0078" };
    await support.get(`/support/users/${user.id}`);
    await support.post(`/support/users/${user.id}/reset`, fields);
    const first = (await support.post(`/support/users/${user.id}/reset/confirm`, fields)).headers.location as string;
    const second = (await support.post(`/support/users/${user.id}/reset/confirm`, fields)).headers.location as string;
    expect([first, second]).toEqual([`/support/users/${user.id}?done=reset`, `/support/users/${user.id}?done=reset-untold`]);
    expect(await said(support, first)).toContain(RESET);
    expect(await said(support, second)).toContain("The account had no confirmed OTP email");
    await support.get(`/support/users/${user.id}`);
    const unlocks = [await support.post(`/support/users/${user.id}/unlock`), await support.post(`/support/users/${user.id}/unlock`)];
    for (const answer of unlocks) expect(await said(support, answer.headers.location as string)).toContain(UNLOCKED);
  });

  it("after DONE_CLAIM_MS on the injected clock, the same link says nothing", async () => {
    const user = await addUser(t.deps, { loginId: "claims.later" });
    await support.get(`/support/users/${user.id}`);
    const unlocked = (await support.post(`/support/users/${user.id}/unlock`)).headers.location as string;
    t.clock.advance(DONE_CLAIM_MS - 1);
    expect(await said(support, unlocked)).toContain(UNLOCKED);
    t.clock.advance(1);
    expect(await said(support, unlocked)).toBeNull();
  });
});
