import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DONE_CLAIM_MS } from "../../src/audit/own-events.ts";
import { saidOn as said } from "./done-claims.ts";
import { type TestApp } from "../support/app.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import type { FormClient } from "../support/client.ts";

const POSTED = "The notice is on the portal’s banner.";
const SAVED = "The notice was changed";
const ENDED = "The notice was taken off the banner.";
const UNLOCKED = "The address was unlocked";

/**
 * Notices' and address locks' `?done=` words (support-notices.ts noticeDone, support-addresses.ts addressDone)
 * only after the reader's own event of that action (on that notice) within DONE_CLAIM_MS; "posted" while the
 * notice is live; the notices list, where no action lands, says none of them.
 */
describe("notices' and address locks' ?done= claims (sqlite)", () => {
  let t: TestApp;
  let support: FormClient;
  let admin: FormClient;
  beforeAll(async () => {
    ({ t, support, admin } = await consoleWithStaff("sqlite", { support: "sup.nclaims", admin: "adm.nclaims" }));
  });
  afterAll(async () => t?.close());


  it("a notice's page says posted, saved, ended only after the reader's own action on it; the list page never", async () => {
    await support.get("/support/notices");
    const posted = (await support.post("/support/notices", { title: "Quotes slow", body: "We are on it." })).headers.location as string;
    expect(posted).toMatch(/^\/support\/notices\/[^?]+\?done=posted$/);
    const page = posted.replace("?done=posted", "");
    expect(await said(support, posted)).toContain(POSTED);
    expect(await said(admin, posted)).toBeNull();
    for (const done of ["saved", "ended"]) expect(await said(support, `${page}?done=${done}`), done).toBeNull();
    for (const done of ["posted", "saved", "ended"]) expect(await said(support, `/support/notices?done=${done}`), done).toBeNull();

    await support.get(page);
    const saved = (await support.post(page, { title: "Quotes slow", body: "Still on it." })).headers.location as string;
    expect(await said(support, saved)).toContain(SAVED);
    expect(await said(admin, saved)).toBeNull();

    // A double click of End: both redirects say it (the second ended nothing, the first's event says it happened).
    const ends = [await support.post(`${page}/end`), await support.post(`${page}/end`)];
    for (const end of ends) expect(await said(support, end.headers.location as string)).toContain(ENDED);
    expect(await said(admin, `${page}?done=ended`)).toBeNull();
    // Ended: no longer "on the banner", whoever posted it.
    expect(await said(support, posted)).toBeNull();
  });

  it("another notice's event says nothing on this one", async () => {
    await admin.get("/support/notices");
    const mine = (await admin.post("/support/notices", { title: "Mine", body: "Text." })).headers.location as string;
    await support.get("/support/notices");
    const theirs = (await support.post("/support/notices", { title: "Theirs", body: "Text." })).headers.location as string;
    await admin.get(mine.replace("?done=posted", ""));
    await admin.post(`${mine.replace("?done=posted", "")}/end`);
    expect(await said(support, theirs)).toContain(POSTED);
    await support.get(theirs);
    await support.post(`${theirs.replace("?done=posted", "")}/end`);
    // Both ended, each by one: the administrator's end of their own notice says nothing on this one.
    expect(await said(admin, theirs.replace("posted", "ended"))).toBeNull();
    expect(await said(support, theirs.replace("posted", "ended"))).toContain(ENDED);
  });

  it("address locks: unlocked only after the reader's own unlock, within DONE_CLAIM_MS", async () => {
    expect(await said(support, "/support/addresses?done=unlocked")).toBeNull();
    await support.get("/support/addresses");
    const lifted = (await support.post("/support/addresses/unlock", { address: "10.77.0.9" })).headers.location as string;
    expect(lifted).toBe("/support/addresses?done=unlocked");
    expect(await said(support, lifted)).toContain(UNLOCKED);
    expect(await said(admin, lifted)).toBeNull();
    t.clock.advance(DONE_CLAIM_MS);
    expect(await said(support, lifted)).toBeNull();
  });
});
