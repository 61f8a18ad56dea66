import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { auditPage } from "../../src/support/audit-trail.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

/** Issue 19.5: spaced and cased variants of a login ID count against it and show under it. */
describe.each(DIALECTS)("audit subjects are login keys (%s)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect });
  });
  afterAll(async () => t.close());

  it("NBSP, a leading space, an ideographic space and other cases land on the user's trail, with the form typed in the detail", async () => {
    const user = await addUser(t.deps, { loginId: "race3" });
    const variants = ["race3\u00a0", " race3", "\u3000race3", "RACE3"];
    for (const typed of variants) expect((await submitPassword(new FormClient(t.app, "198.51.100.70"), typed, "wrong password")).statusCode).toBe(401);
    expect((await accountLockInfo(t.deps, user.login_key, t.clock.now())).passwordFailures).toBe(4);

    const events = await queryAudit(t.deps.db, { subject: "race3", event: "password.failed" });
    expect(events.map((e) => e.detail.typed).sort()).toEqual([...variants].sort());
    expect(events.every((e) => e.subject === "race3")).toBe(true);
    // The console's and `famos audit --user`'s filter folds the same way, whatever is typed there.
    for (const filter of ["race3", " RACE3 ", "race3\u00a0"]) expect((await auditPage(t.deps.db, { user: filter, event: "password.failed" }, { page: 1 })).records).toHaveLength(4);
  });

  it("folds non-ASCII login IDs in the application, where SQLite's lower() would not", async () => {
    const user = await addUser(t.deps, { loginId: "émile.über" });
    await submitPassword(new FormClient(t.app, "198.51.100.71"), "ÉMILE.ÜBER", "wrong password");
    const events = await queryAudit(t.deps.db, { subject: "Émile.Über", event: "password.failed" });
    expect(events).toHaveLength(1);
    expect(events[0]!.subject).toBe(user.login_key);
    expect((await auditPage(t.deps.db, { user: "ÉMILE.über" }, { page: 1 })).records.length).toBeGreaterThan(0);
  });
});
