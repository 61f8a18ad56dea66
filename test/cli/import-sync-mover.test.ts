import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByLogin } from "../../src/users/users.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { importRuns } from "./import-runs.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * A mover between dealers: A's `famos user import --sync` runs before B's and disables them as a leaver;
 * B's `--sync --update` row, which puts them at B, enables them again (enablesAgain, support/import-users.ts).
 * A disable by a person is never undone by an import, and A's own file listing them again is no move.
 */
describe.each(DIALECTS)("user import --sync --update enables a mover that another partner's sync disabled, on %s", (dialect: TestDialect) => {
  let t: TestApp;
  let cli: CliWorkspace;
  const { password, row, file, run } = importRuns(() => t, () => cli);
  const user = async (login: string) => (await findUserByLogin(t.deps.db, login))!;
  const enabledEvents = async (login: string) =>
    (await t.deps.db.selectFrom("audit").select(["actor", "detail"]).where("event", "=", "user.enabled").where("subject", "=", login).execute()).map((e) => ({
      actor: e.actor,
      detail: JSON.parse(e.detail) as unknown,
    }));
  // Dealer A (0100) and dealer B (0200); A's new file leaves out the staff who moved or left.
  const fileA = () => file("a.csv", [row("a.stays", "0100")]);

  beforeAll(async () => {
    t = await createTestApp({ database: dialect });
    cli = cliWorkspace();
    const staff = ["a.stays", "m.mover", "p.person", "q.both", "r.rehired"].map((login) => row(login, "0100"));
    await run(["user", "import", file("all.csv", [...staff, row("b.stays", "0200")])]);
    expect(await run(["user", "import", fileA(), "--sync", "--update"])).toContain("4 users missing from the file disabled");
  });
  afterAll(async () => {
    await t?.close();
    cli?.remove();
  });

  it("B's dry run names the mover and changes nothing; B's run enables them at B, audited with the line; a re-run enables nobody; they sign in", async () => {
    const fileB = file("b.csv", [row("b.stays", "0200"), row("m.mover", "0200")]);
    const dry = await run(["user", "import", fileB, "--sync", "--update", "--dry-run"]);
    expect(dry).toContain("Dry run: 1 user disabled by another partner's --sync would be enabled again, now at the partner in the file:\n  m.mover (Name m.mover, partner 0200)\n");
    expect(await user("m.mover")).toMatchObject({ partner_number: "0100", disabled_at: expect.any(Number) });
    expect(await enabledEvents("m.mover")).toEqual([]);

    const real = await run(["user", "import", fileB, "--sync", "--update"]);
    expect(real).toContain("2 rows taken (0 added, 1 updated, 1 unchanged).\n1 user disabled by another partner's --sync enabled again, now at the partner in the file:\n  m.mover (Name m.mover, partner 0200)\n");
    expect(await user("m.mover")).toMatchObject({ partner_number: "0200", disabled_at: null });
    expect(await enabledEvents("m.mover")).toEqual([{ actor: expect.stringMatching(/^operator:/), detail: { source: "import", line: 3 } }]);

    // Run again (before a sign-in upgrades the imported hash, which the row would then change): no second enable.
    const again = await run(["user", "import", fileB, "--sync", "--update"]);
    expect(again).toContain("2 rows taken (0 added, 0 updated, 2 unchanged).\n0 users missing from the file disabled.\n");
    expect(await enabledEvents("m.mover")).toHaveLength(1);

    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, { login_id: "m.mover", password, otp_email: "m.mover@dealer.example" });
    expect((await client.get("/")).body).toContain("Sign out");
  });

  it("a disable by a person is never undone by an import: before the sync, or after it on one the sync disabled", async () => {
    // q.both: the sync disabled them, then a person did too ("already disabled"): theirs now.
    expect(await run(["user", "disable", "q.both"])).toBe("q.both was disabled by partner 0100's import --sync; now kept disabled: no import enables them again.\n");
    const kept = await t.deps.db.selectFrom("audit").select(["actor", "detail"]).where("event", "=", "user.disabled").where("subject", "=", "q.both").orderBy("id").execute();
    expect(kept.map((e) => JSON.parse(e.detail) as unknown).at(-1)).toEqual({ kept: true });
    expect(await run(["user", "disable", "q.both"])).toBe("q.both was already disabled; nothing was changed.\n");
    await run(["user", "enable", "p.person"]);
    await run(["user", "disable", "p.person"]);

    const fileB = file("b2.csv", [row("b.stays", "0200"), row("p.person", "0200"), row("q.both", "0200")]);
    const dry = await run(["user", "import", fileB, "--sync", "--update", "--dry-run"]);
    expect(dry).not.toContain("enabled again");
    const real = await run(["user", "import", fileB, "--sync", "--update"]);
    expect(real).not.toContain("enabled again");
    for (const login of ["p.person", "q.both"]) {
      expect(await user(login)).toMatchObject({ partner_number: "0200", disabled_at: expect.any(Number) });
      expect((await submitPassword(new FormClient(t.app), login, password)).statusCode).toBe(401);
    }
  });

  it("A's own file listing them again (an older file, run after the sync) is no move and enables nobody", async () => {
    const oldA = file("a-old.csv", [row("a.stays", "0100"), row("r.rehired", "0100")]);
    expect(await run(["user", "import", oldA, "--sync", "--update", "--dry-run"])).not.toContain("enabled again");
    expect(await run(["user", "import", oldA, "--sync", "--update"])).not.toContain("enabled again");
    expect(await user("r.rehired")).toMatchObject({ partner_number: "0100", disabled_at: expect.any(Number) });
    // Without --update the row is kept as it is, at any partner: a plain `--sync` changes no account it lists.
    expect(await run(["user", "import", file("b3.csv", [row("b.stays", "0200"), row("m.mover", "0200"), row("r.rehired", "0200")]), "--sync"])).not.toContain("enabled again");
    expect((await user("r.rehired")).disabled_at).not.toBeNull();
  });

  it("an enabled mover's announcement of A's start is forgotten like any mover's: the next announce mails them B's earlier start", async () => {
    await run(["rollout", "plan", "--partner", "0700", "--from", "2027-01-18T07:00"]);
    await run(["rollout", "plan", "--partner", "0800", "--from", "2027-01-11T07:00"]);
    await run(["user", "import", "--email-as-contact", file("a7-all.csv", [row("a7.stays", "0700"), row("m7.mover", "0700")])]);
    await run(["rollout", "announce", "--partner", "0700"]);
    await run(["user", "import", "--email-as-contact", file("a7.csv", [row("a7.stays", "0700")]), "--sync", "--update"]);
    const real = await run(["user", "import", "--email-as-contact", file("b8.csv", [row("m7.mover", "0800")]), "--sync", "--update"]);
    expect(real).toContain("enabled again, now at the partner in the file:\n  m7.mover (Name m7.mover, partner 0800)\n");
    await run(["rollout", "announce", "--partner", "0800"]);
    const mails = await t.deps.db.selectFrom("outbox").select("subject").where("recipient", "=", "m7.mover@dealer.example").execute();
    expect(mails.map((m) => m.subject).sort()).toEqual([
      "FAMOS two-factor sign-in starts for you on 11/01/2027",
      "FAMOS two-factor sign-in starts for you on 18/01/2027",
    ]);
  });

  it("an enabled mover whose B row gives no email keeps A's OTP email: the dry run and the run say so", async () => {
    await run(["user", "import", file("a9-all.csv", [row("a9.stays", "0910"), row("n9.mover", "0910")])]);
    await run(["user", "import", file("a9.csv", [row("a9.stays", "0910")]), "--sync", "--update"]);
    const fileB = file("b9.csv", [row("n9.mover", "0920").replace("n9.mover@dealer.example", "")]);
    const said = "  n9.mover (Name n9.mover, partner 0920)\n    OTP email still n9.mover@dealer.example: reset it if it was the old dealer's.\n";
    expect(await run(["user", "import", fileB, "--sync", "--update", "--dry-run"])).toContain(said);
    expect(await run(["user", "import", fileB, "--sync", "--update"])).toContain(said);
    expect(await user("n9.mover")).toMatchObject({ partner_number: "0920", disabled_at: null, otp_email: "n9.mover@dealer.example" });
  });

  it("an enabled mover whose OTP email a successor now has: the dry run says so, as the run does", async () => {
    await run(["user", "import", file("a10-all.csv", [row("a10.stays", "1010"), row("s10.mover", "1010")])]);
    await run(["user", "import", file("a10.csv", [row("a10.stays", "1010")]), "--sync", "--update"]);
    // A successor at A is given the mover's old address.
    await run(["user", "import", file("a10-new.csv", [row("t10.new", "1010").replace("t10.new@", "s10.mover@")])]);
    const fileB = file("b10.csv", [row("s10.mover", "1020")]);
    const said = "  s10.mover (Name s10.mover, partner 1020)\n    Its OTP email is also the OTP email of another enabled login ID";
    expect(await run(["user", "import", fileB, "--sync", "--update", "--dry-run"])).toContain(said);
    expect(await run(["user", "import", fileB, "--sync", "--update"])).toContain(said);
  });

  it("an administrator enabled again counts as one in B's dry run, as in the real run: the last other one may then go", async () => {
    const admin = (login: string, partner: string) => row(login, partner).replace(",user,", ",admin,");
    await run(["user", "import", file("admins.csv", [admin("x.admin", "0500"), row("a5.stays", "0500"), admin("y.admin", "0600")])]);
    // A's sync (0500) disables x.admin; y.admin stays, the only enabled administrator.
    expect(await run(["user", "import", file("a5.csv", [row("a5.stays", "0500")]), "--sync", "--update"])).toContain("  x.admin (");
    // B's file (0600) moves x.admin there and leaves y.admin out: x.admin, enabled again first, is the one who stays.
    const fileB = file("b6.csv", [admin("x.admin", "0600")]);
    const dry = await run(["user", "import", fileB, "--sync", "--update", "--dry-run"]);
    expect(dry).toContain("1 user of the 1 partner in the file would be disabled:\n  y.admin (");
    expect(dry).toContain("would be enabled again, now at the partner in the file:\n  x.admin (Name x.admin, partner 0600)\n");
    const real = await run(["user", "import", fileB, "--sync", "--update"]);
    expect(real).toContain("1 user missing from the file disabled:\n  y.admin (");
    expect(await user("x.admin")).toMatchObject({ role: "admin", partner_number: "0600", disabled_at: null });
  });
});
