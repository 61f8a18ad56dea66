import { describe, expect, it } from "vitest";
import { disableUser, enableUser, enableUserIn } from "../../src/account/disable.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import type { Acting } from "../../src/support/acting.ts";
import { enablesAgain } from "../../src/support/import-movers.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const operator: Acting = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/**
 * sync_disabled_partner (migration 028), the record that lets an import enable again only what an
 * import disabled (enablesAgain): a sync's disable records the partner whose file left the account out;
 * a person's disable and every enable clear it. The CLI tier runs it end to end (import-sync-mover.test).
 */
describe("the partner a sync disabled an account for (unit tier)", () => {
  const unit = useUnitDeps();
  const partnerOf = async (id: string) => (await findUserById(unit.deps.db, id))!.sync_disabled_partner ?? null;

  it("a sync's disable records the account's partner and says so in the audit; a person's records none", async () => {
    const synced = await addUser(unit.deps, { partnerNumber: "11111" });
    const person = await addUser(unit.deps, { partnerNumber: "11111" });
    expect((await disableUser(unit.deps, operator, synced.id, { bySync: true })).kind).toBe("disabled");
    expect((await disableUser(unit.deps, operator, person.id)).kind).toBe("disabled");
    expect(await partnerOf(synced.id)).toBe("11111");
    expect(await partnerOf(person.id)).toBeNull();
    expect((await queryAudit(unit.deps.db, { subject: synced.login_id, event: "user.disabled" }))[0]!.detail).toMatchObject({ source: "sync" });
    expect((await queryAudit(unit.deps.db, { subject: person.login_id, event: "user.disabled" }))[0]!.detail).not.toHaveProperty("source");
  });

  it("a person disabling one a sync disabled already makes it theirs (no import undoes it); a sync after a person's disable records nothing", async () => {
    const user = await addUser(unit.deps, { partnerNumber: "11111" });
    await disableUser(unit.deps, operator, user.id, { bySync: true });
    expect((await disableUser(unit.deps, operator, user.id)).kind).toBe("unchanged");
    expect(await partnerOf(user.id)).toBeNull();
    expect(enablesAgain((await findUserById(unit.deps.db, user.id))!, { partnerNumber: "22222" }, { update: true })).toBe(false);

    const other = await addUser(unit.deps, { partnerNumber: "11111" });
    await disableUser(unit.deps, operator, other.id);
    expect((await disableUser(unit.deps, operator, other.id, { bySync: true })).kind).toBe("unchanged");
    expect(await partnerOf(other.id)).toBeNull();
    const again = await addUser(unit.deps, { partnerNumber: "11111" });
    await disableUser(unit.deps, operator, again.id, { bySync: true });
    expect((await disableUser(unit.deps, operator, again.id, { bySync: true })).kind).toBe("unchanged");
    expect(await partnerOf(again.id)).toBe("11111");
  });

  it("every enable clears it, the import's with its source and line in the audit", async () => {
    const user = await addUser(unit.deps, { partnerNumber: "11111" });
    await disableUser(unit.deps, operator, user.id, { bySync: true });
    const outcome = await unit.deps.db.transaction().execute((tx) => enableUserIn(unit.deps, tx, operator, user.id, { source: "import", line: 3 }));
    expect(outcome).toMatchObject({ kind: "enabled", user: { disabled_at: null, sync_disabled_partner: null } });
    expect(await partnerOf(user.id)).toBeNull();
    expect((await queryAudit(unit.deps.db, { subject: user.login_id, event: "user.enabled" }))[0]!.detail).toEqual({ source: "import", line: 3 });

    await disableUser(unit.deps, operator, user.id, { bySync: true });
    expect((await enableUser(unit.deps, operator, user.id)).kind).toBe("enabled");
    expect(await partnerOf(user.id)).toBeNull();
  });

  it("enables an account that has no OTP email (never enrolled); one sharing its OTP email with an enabled account is told so beside the import's detail", async () => {
    const bare = await addUser(unit.deps, { partnerNumber: "11111", email: null });
    await disableUser(unit.deps, operator, bare.id, { bySync: true });
    expect(await enableUser(unit.deps, operator, bare.id)).toMatchObject({ kind: "enabled", sharedWith: 0 });

    const holder = await addUser(unit.deps, { email: "service@dealer.example" });
    const sharer = await addUser(unit.deps, { partnerNumber: "11111", email: "service@dealer.example" });
    await disableUser(unit.deps, operator, sharer.id, { bySync: true });
    const outcome = await unit.deps.db.transaction().execute((tx) => enableUserIn(unit.deps, tx, operator, sharer.id, { source: "import", line: 7 }));
    expect(outcome).toMatchObject({ kind: "enabled", sharedWith: 1 });
    expect((await queryAudit(unit.deps.db, { subject: sharer.login_id, event: "user.enabled" }))[0]!.detail).toEqual({ source: "import", line: 7, sharedMailbox: true });
    expect(holder.disabled_at).toBeNull();
  });
});
