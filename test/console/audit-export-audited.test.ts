import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { addUser, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { consoleWithStaff } from "../support/console-staff.ts";

/**
 * The audit trail's CSV holds every user's addresses, IPs and browsers whole (the page masks the
 * addresses): taking it out of FAMOS is itself an event of the trail, with who took it and which part
 * (ASVS 7.1.3 and OWASP's Logging cheat sheet, "data export"), so an insider's bulk copy is not silent.
 */
describe("Download CSV of the audit trail is itself audited", () => {
  let t: TestApp;
  let support: FormClient;

  beforeAll(async () => {
    ({ t, support } = await consoleWithStaff("sqlite", { support: "export.support", admin: "export.admin" }));
  });
  afterAll(async () => t?.close());

  const exports = async () => queryAudit(t.deps.db, { event: "audit.exported" as never });

  it("names the support person, their address and the filter; the page view is not an export", async () => {
    expect((await support.get("/support/audit?event=unlock")).statusCode).toBe(200);
    expect(await exports()).toEqual([]);
    const csv = await support.get("/support/audit.csv?user=j.smith&event=unlock&from=2026-06-14T09:00");
    expect(csv.statusCode).toBe(200);
    const [event, ...more] = await exports();
    expect(more).toEqual([]);
    expect(event).toMatchObject({ event: "audit.exported", actor: "export.support", subject: null, ip: "127.0.0.1" });
    expect(event!.detail).toEqual({ user: "j.smith", event: "unlock", since: "2026-06-14T08:00:00.000Z", until: null });
    // The export's own event is in the trail it reads next time.
    expect((await support.get("/support/audit.csv?event=audit.exported")).body).toContain("export.support");
  });

  it("a refused filter exports nothing and writes nothing; a user without the role neither", async () => {
    const before = (await exports()).length;
    expect((await support.get("/support/audit.csv?event=no.such")).statusCode).toBe(400);
    const user = new FormClient(t.app);
    await signInFully(user, t.smtp, await addUser(t.deps, { loginId: "export.user" }));
    expect((await user.get("/support/audit.csv")).statusCode).toBe(403);
    expect((await exports()).length).toBe(before);
  });
});
