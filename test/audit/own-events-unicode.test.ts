import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, type TestApp } from "../support/app.ts";
import type { FormClient } from "../support/client.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import { saidOn as said } from "../web/done-claims.ts";

const UNLOCKED = "The login ID was unlocked";
const ROLE = "The role was changed.";

// Review finding: a real unlock / role change on an account whose login ID has a non-ASCII capital
// ("Özge.Claims"). The event's subject is the login ID as written; SQLite's lower() folds ASCII only,
// so queryAudit's subject filter (ownRecentEvents, the user page, erasure's strings) must find it as
// PostgreSQL does.
describe.each(["sqlite", "postgres"] as const)("queryAudit's subject on a login ID with a non-ASCII capital (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  let admin: FormClient;
  beforeAll(async () => {
    ({ t, support, admin } = await consoleWithStaff(database, { support: "sup.uni", admin: "adm.uni" }));
  });
  afterAll(async () => t?.close());

  it("a real unlock says its words", async () => {
    const user = await addUser(t.deps, { loginId: "Özge.Claims" });
    await support.get(`/support/users/${user.id}`);
    const unlocked = (await support.post(`/support/users/${user.id}/unlock`)).headers.location as string;
    expect(unlocked).toBe(`/support/users/${user.id}?done=unlocked`);
    expect(await said(support, unlocked)).toContain(UNLOCKED);
  });

  it("a real role change says its words", async () => {
    const user = await addUser(t.deps, { loginId: "Ärger.Role" });
    await admin.get(`/support/users/${user.id}`);
    const role = (await admin.post(`/support/users/${user.id}/role`, { role: "support" })).headers.location as string;
    expect(role).toBe(`/support/users/${user.id}?done=role`);
    expect(await said(admin, role)).toContain(ROLE);
  });

  it("every case of the login ID, as written or as its key, finds the same events", async () => {
    const user = await addUser(t.deps, { loginId: "ÄÖÜ.Ñandú" });
    await support.get(`/support/users/${user.id}`);
    await support.post(`/support/users/${user.id}/unlock`);
    for (const asked of ["ÄÖÜ.Ñandú", "äöü.ñandú", "ÄÖÜ.ÑANDÚ", " äÖü.ñAndú "]) {
      expect((await queryAudit(t.deps.db, { subject: asked, event: "unlock" })).map((e) => e.subject)).toEqual(["ÄÖÜ.Ñandú"]);
    }
    expect(await queryAudit(t.deps.db, { subject: "äöü.ñandu", event: "unlock" })).toEqual([]);
  });
});
