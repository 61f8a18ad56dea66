import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepDisabled } from "../../src/account/disable.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import type { Acting } from "../../src/support/acting.ts";
import { changeRole } from "../../src/support/roles.ts";
import { findUserById, findUserByLogin, type User } from "../../src/users/users.ts";
import { importRuns } from "../cli/import-runs.ts";
import { cliWorkspace, type CliWorkspace } from "../cli/run-famos.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";

const MINUTE = 60_000;
const KEEP = ">Keep disabled<";
const KEPT = "The account is kept disabled: no import enables it again. Nothing else was changed.";
const UNCHANGED = "Nothing was changed: the account is no longer one an import --sync disabled";

/**
 * The console's "Keep disabled" (account/disable.ts keepDisabled): an account partner A's real
 * `famos user import --sync` disabled (sync_disabled_partner) is made a person's disable, the rule
 * `famos user disable` meets on it (setDisabled's `kept`), so B's `--sync --update` row placing them at B
 * does not enable them as it enables a mover (import-sync-mover.test). Step-up, CSRF and Disable's role rule.
 */
describe.each(["sqlite", "postgres"] as const)("console: Keep disabled, for an account an import --sync disabled (%s)", (database) => {
  let t: TestApp;
  let cli: CliWorkspace;
  let support: FormClient;
  const { row, file, run } = importRuns(() => t, () => cli);
  const user = async (login: string) => (await findUserByLogin(t.deps.db, login))!;
  const disabledEvents = async (login: string) =>
    (await queryAudit(t.deps.db, { subject: login, event: "user.disabled" })).map((e) => ({ actor: e.actor, detail: e.detail }));

  beforeAll(async () => {
    // The console's clock after the real one the command line's runs use: the keep's audit event comes
    // after the sync's disable, as on one machine (the page after it reads the disable's latest event).
    t = await createTestApp({ database, clock: new FixedClock(Date.UTC(2030, 0, 7, 9, 0)) });
    cli = cliWorkspace();
    support = new FormClient(t.app);
    await signInFully(support, t.smtp, await addUser(t.deps, { role: "support", loginId: "sup.keep" }));
    // Dealer A (4100): its new file leaves out the leavers; dealer B is 4200.
    const staff = ["k.leaver", "k.mover", "k.csrf", "k.late", "k.demoted", "k.person", "k.posted"].map((login) => row(login, "4100"));
    await run(["user", "import", file("all.csv", [...staff, row("k.peer", "4100", "support"), row("a.stays", "4100")])]);
    expect(await run(["user", "import", file("a.csv", [row("a.stays", "4100")]), "--sync", "--update"])).toContain("8 users missing from the file disabled");
  });
  afterAll(async () => {
    await t?.close();
    cli?.remove();
  });

  it("offers Keep disabled only for an account a sync disabled; pressed, the page says it was kept, audited, and B's import placing them at B does not enable them", async () => {
    const leaver = await user("k.leaver");
    expect(leaver.sync_disabled_partner).toBe("4100");
    const page = (await support.get(`/support/users/${leaver.id}`)).body;
    expect(page).toContain("Disabled since");
    expect(page).toContain(KEEP);
    expect(page).toContain(`<form method="post" action="/support/users/${leaver.id}/keep-disabled"><input type="hidden" name="_csrf"`);
    // Not for an enabled account, nor for one a person disabled.
    const enabled = await user("a.stays");
    expect((await support.get(`/support/users/${enabled.id}`)).body).not.toContain(KEEP);
    // Posted for one no sync ever disabled (a crafted form, a link): left as it is, and "no longer one an
    // import --sync disabled" is not said of it (wasSyncDisabled: it never was).
    const unchanged = await support.post(`/support/users/${enabled.id}/keep-disabled`);
    expect(unchanged.headers.location).toBe(`/support/users/${enabled.id}?done=keep-unchanged`);
    expect((await support.get(unchanged.headers.location as string)).body).not.toContain(UNCHANGED);
    expect((await user("a.stays")).disabled_at).toBeNull();
    expect(await disabledEvents("a.stays")).toEqual([]);
    const person = await user("k.person");
    await support.post(`/support/users/${person.id}/enable`);
    await support.get(`/support/users/${person.id}/disable`);
    expect((await support.post(`/support/users/${person.id}/disable`)).headers.location).toBe(`/support/users/${person.id}?done=disabled`);
    expect((await support.get(`/support/users/${person.id}`)).body).not.toContain(KEEP);

    await support.get(`/support/users/${leaver.id}`);
    const kept = await support.post(`/support/users/${leaver.id}/keep-disabled`);
    expect(kept.statusCode).toBe(303);
    expect(kept.headers.location).toBe(`/support/users/${leaver.id}?done=kept`);
    const after = (await support.get(kept.headers.location as string)).body;
    expect(after).toContain(KEPT);
    expect(after).not.toContain("The account was disabled");
    expect(after).not.toContain(KEEP);
    // The disable page's own address says the same true thing: no "disabled" without counts.
    const asDisabled = (await support.get(`/support/users/${leaver.id}?done=disabled`)).body;
    expect(asDisabled).toContain(KEPT);
    expect(asDisabled).not.toContain("The account was disabled: the user cannot sign in.");
    expect(await user("k.leaver")).toMatchObject({ sync_disabled_partner: null, disabled_at: leaver.disabled_at });
    expect((await disabledEvents("k.leaver"))[0]).toEqual({ actor: "sup.keep", detail: { kept: true } });
    // Pressed again (a second tab): nothing changes, said as such (the sync's disable was kept), no second event.
    await support.get(`/support/users/${leaver.id}`);
    const again = (await support.post(`/support/users/${leaver.id}/keep-disabled`)).headers.location as string;
    expect(again).toBe(`/support/users/${leaver.id}?done=keep-unchanged`);
    expect((await support.get(again)).body).toContain(UNCHANGED);
    expect(await disabledEvents("k.leaver")).toHaveLength(2);

    // B's file places both at B: the mover nobody kept is enabled again, the kept leaver is not.
    const real = await run(["user", "import", file("b.csv", [row("k.leaver", "4200"), row("k.mover", "4200")]), "--sync", "--update"]);
    expect(real).toContain("1 user disabled by another partner's --sync enabled again, now at the partner in the file:\n  k.mover (Name k.mover, partner 4200)\n");
    expect(real).not.toContain("k.leaver (");
    expect(await user("k.leaver")).toMatchObject({ partner_number: "4200", disabled_at: leaver.disabled_at });
    expect(await user("k.mover")).toMatchObject({ partner_number: "4200", disabled_at: null });
    expect(await queryAudit(t.deps.db, { subject: "k.leaver", event: "user.enabled" })).toEqual([]);
  });

  it("Disable posted for such an account (a question page opened before the sync) keeps it, and the page says so, not \"already disabled\"", async () => {
    const target = await user("k.posted");
    await support.get(`/support/users/${target.id}`);
    const posted = await support.post(`/support/users/${target.id}/disable`);
    expect(posted.headers.location).toBe(`/support/users/${target.id}?done=kept`);
    const page = (await support.get(posted.headers.location as string)).body;
    expect(page).toContain(KEPT);
    expect(page).not.toContain("The account was already disabled; nothing was changed.");
    expect((await disabledEvents("k.posted"))[0]).toEqual({ actor: "sup.keep", detail: { kept: true } });
  });

  it("without the form's CSRF token: refused, nothing kept", async () => {
    const target = await user("k.csrf");
    await support.get(`/support/users/${target.id}`);
    expect((await support.post(`/support/users/${target.id}/keep-disabled`, {}, { csrf: false })).statusCode).toBe(403);
    expect((await user("k.csrf")).sync_disabled_partner).toBe("4100");
    expect(await disabledEvents("k.csrf")).toHaveLength(1);
  });

  it("an hour after the code, Keep disabled asks for the password first and keeps nothing until it is given", async () => {
    const late = await addUser(t.deps, { role: "support", loginId: `sup.late.${database}` });
    const client = new FormClient(t.app, "10.2.3.4");
    await signInFully(client, t.smtp, late);
    const target = await user("k.late");
    for (const minutes of [25, 25, 11]) {
      t.clock.advance(minutes * MINUTE);
      expect((await client.get(`/support/users/${target.id}`)).statusCode).toBe(200);
    }
    const asked = await client.post(`/support/users/${target.id}/keep-disabled`);
    expect(asked.statusCode).toBe(401);
    expect(asked.body).toContain("Confirm it is you");
    expect(asked.body).toContain(`<form method="post" action="/support/users/${target.id}/keep-disabled"`);
    expect((await user("k.late")).sync_disabled_partner).toBe("4100");
    const done = await client.post(`/support/users/${target.id}/keep-disabled`, { stepUpPassword: late.password });
    expect(done.headers.location).toBe(`/support/users/${target.id}?done=kept`);
    expect((await user("k.late")).sync_disabled_partner).toBeNull();
    expect((await disabledEvents("k.late"))[0]).toEqual({ actor: late.login_id, detail: { kept: true } });
  });

  it("Disable's role rule: support may not keep a support account disabled (no button, 403); an actor demoted since the request was read keeps nothing", async () => {
    // Signed in now: the hour the test before let pass has ended the first support session.
    const desk = new FormClient(t.app, "10.2.3.5");
    await signInFully(desk, t.smtp, await addUser(t.deps, { role: "support", loginId: `sup.desk.${database}` }));
    const peer = await user("k.peer");
    const page = (await desk.get(`/support/users/${peer.id}`)).body;
    expect(page).toContain("Only an administrator can disable, enable or erase a support account.");
    expect(page).not.toContain(KEEP);
    expect((await desk.post(`/support/users/${peer.id}/keep-disabled`)).statusCode).toBe(403);
    expect((await user("k.peer")).sync_disabled_partner).toBe("4100");

    // Demoted while the step-up's password was being checked (actor-changed-after-step-up.test): actingNow says no.
    const admin = await addUser(t.deps, { role: "admin" });
    const person = await addUser(t.deps, { role: "support" });
    const actingAs = (u: User): Acting => ({ user: u, audit: { actor: u.login_id, ip: "192.0.2.52", userAgent: "keep-disabled" } });
    expect((await changeRole(t.deps, actingAs(admin), (await findUserById(t.deps.db, person.id))!, "user")).kind).toBe("changed");
    const target = await user("k.demoted");
    expect(await keepDisabled(t.deps, actingAs(person), target.id)).toEqual({ kind: "forbidden", reason: "no-role", message: "Your role does not give access to the support console." });
    expect((await user("k.demoted")).sync_disabled_partner).toBe("4100");
    expect(await disabledEvents("k.demoted")).toHaveLength(1);
    // The control: the administrator keeps it.
    expect(await keepDisabled(t.deps, actingAs(admin), target.id)).toMatchObject({ kind: "unchanged", kept: true });
  });
});
