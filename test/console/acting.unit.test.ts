import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translateSaid } from "../../src/i18n/translator.ts";
import { creationRefusal, refusal, type Acting, type SupportAction } from "../../src/support/acting.ts";
import { changeRole, isRole } from "../../src/support/roles.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const NO_ROLE = "Your role does not give access to the support console.";
const OWN = "You cannot reset, unlock or change the role of your own account: ask a colleague.";
const ADMIN_ACCOUNT = "Only an administrator can reset or unlock an administrator's account.";
const ADMIN_ONLY = "Only an administrator can change roles.";
const OWN_FACTORS = "You cannot remove your own second factors: ask a colleague.";
const OWN_DISABLE = "You cannot disable, enable or erase your own account: ask a colleague.";
const OWN_PASSWORD = "You cannot set a temporary password for your own account: change your password on the Profile tab.";
/** Their own account, in the words of the action refused where it has its own; else OWN. */
const OWN_REFUSALS: Partial<Record<SupportAction, string>> = { factors: OWN_FACTORS, disable: OWN_DISABLE, password: OWN_PASSWORD };
const ADMIN_FACTORS = "Only an administrator can remove an administrator's second factors (never their own).";
/** An administrator's account, refused to support in the words of each action that has its own. */
const ADMIN_WORDS: Partial<Record<SupportAction, string>> = {
  factors: ADMIN_FACTORS,
  disable: "Only an administrator can disable, enable or erase an administrator's account.",
  password: "Only an administrator can set a temporary password for an administrator's account.",
};
const CREATE_ADMIN_ONLY = "Only an administrator can create support or administrator accounts.";
const SUPPORT_ACCOUNT = "Only an administrator can set a temporary password for a support account.";
const SUPPORT_DISABLE = "Only an administrator can disable, enable or erase a support account.";
const SUPPORT_FACTORS = "Only an administrator can remove a support account's second factors.";
/** What support may not do to a peer support account, each in its own words (only an administrator may). */
const PEER_REFUSALS: Partial<Record<SupportAction, string>> = { password: SUPPORT_ACCOUNT, disable: SUPPORT_DISABLE, factors: SUPPORT_FACTORS };

const ACTIONS: SupportAction[] = ["view", "reset", "unlock", "role", "disable", "password", "factors"];
const CHANGES = ACTIONS.filter((action) => action !== "view");
const person = (id: string, role: User["role"]) => ({ id, role, login_id: id }) as User;
const by = (user: User | null): Acting => ({ user, audit: { actor: user?.login_id ?? "operator:test", ip: user ? "192.0.2.7" : "cli", userAgent: user ? "unit" : "famos-cli" } });

/** Who in the retail IT team may do what to which account (SPEC item 8 and "People"; issue 13). */
describe("refusal: who may act on which account (unit tier)", () => {
  const user = person("u", "user");
  const support = person("s", "support");
  const support2 = person("s2", "support");
  const admin = person("a", "admin");
  const admin2 = person("a2", "admin");

  it("lets the command-line operator do anything to anyone", () => {
    for (const action of ACTIONS) for (const target of [user, support, admin]) expect(refusal(by(null), target, action)).toBeNull();
  });

  it("refuses a plain user everything, viewing too, in the console's words, whatever the target", () => {
    for (const action of ACTIONS) {
      for (const target of [user, person("v", "user"), support, admin]) {
        expect(refusal(by(user), target, action)).toEqual({ kind: "forbidden", reason: "no-role", message: NO_ROLE });
      }
    }
  });

  it("lets support and admin view any account, their own and an administrator's included", () => {
    for (const actor of [support, admin]) for (const target of [actor, user, support2, admin2]) expect(refusal(by(actor), target, "view")).toBeNull();
  });

  it("refuses support and admin every change to their own account, a role change included, each in the words of what was refused", () => {
    for (const actor of [support, admin]) {
      for (const action of CHANGES) {
        expect(refusal(by(actor), actor, action), action).toEqual({ kind: "forbidden", reason: "own-account", message: OWN_REFUSALS[action] ?? OWN });
        // The same id is the same account, whatever else the record says.
        expect(refusal(by(actor), { ...person(actor.id, "user") }, action)?.reason).toBe("own-account");
      }
    }
  });

  it("lets only an administrator change roles, of anyone else (an administrator included)", () => {
    for (const target of [user, support2, admin2]) {
      expect(refusal(by(admin), target, "role")).toBeNull();
      expect(refusal(by(support), target, "role")).toEqual({ kind: "forbidden", reason: "admin-only", message: ADMIN_ONLY });
    }
  });

  it("lets support act on users and other support staff, never on an administrator; admin on anyone else", () => {
    for (const action of CHANGES.filter((a) => a !== "role")) {
      for (const target of [user, support2]) {
        // A peer's temporary password, disabling and second factors are the exceptions (next test).
        if (!(target === support2 && action in PEER_REFUSALS)) expect(refusal(by(support), target, action)).toBeNull();
        expect(refusal(by(admin), target, action)).toBeNull();
      }
      expect(refusal(by(support), admin, action)).toEqual({ kind: "forbidden", reason: "admin-account", message: ADMIN_WORDS[action] ?? ADMIN_ACCOUNT });
      expect(refusal(by(admin), admin2, action)).toBeNull();
    }
  });

  it("lets only an administrator set a peer support account's temporary password, disable, enable or erase it, or remove its second factors", () => {
    // With the reset, a temporary password would hand support a peer's account; disabling locks the peer
    // out, removing the factors strips a privileged account down to the emailed code.
    for (const [action, message] of Object.entries(PEER_REFUSALS) as [SupportAction, string][]) {
      expect(refusal(by(support), support2, action), action).toEqual({ kind: "forbidden", reason: "support-account", message });
      expect(refusal(by(admin), support2, action), action).toBeNull();
      expect(refusal(by(admin), support, action), action).toBeNull();
      expect(refusal(by(support), user, action), action).toBeNull();
      expect(refusal(by(null), support2, action), action).toBeNull();
      // Their own account and an administrator's keep their own reasons.
      expect(refusal(by(support), support, action)?.reason, action).toBe("own-account");
      expect(refusal(by(support), admin, action)?.reason, action).toBe("admin-account");
      expect(refusal(by(admin), admin, action)?.reason, action).toBe("own-account");
    }
    // Nothing that neither hands over nor takes away the peer's account is refused.
    for (const action of ["view", "reset", "unlock"] as const) expect(refusal(by(support), support2, action), action).toBeNull();
    expect(Object.keys(PEER_REFUSALS).sort()).toEqual(["disable", "factors", "password"]);
  });

  it("says a refusal in the words of the action refused where it has them, else the common ones", () => {
    expect(refusal(by(support), support, "factors")?.message).toBe(OWN_FACTORS);
    // Disabling also decides enabling and erasing; the temporary password points to one's own way to change it.
    expect(refusal(by(admin), admin, "disable")?.message).toBe(OWN_DISABLE);
    expect(refusal(by(support), support, "password")?.message).toBe(OWN_PASSWORD);
    expect(refusal(by(support), support, "unlock")?.message).toBe(OWN);
    expect(refusal(by(admin), admin, "role")?.message).toBe(OWN);
    expect(refusal(by(support), admin, "factors")?.message).toBe(ADMIN_FACTORS);
    expect(refusal(by(user), support, "factors")?.message).toBe(NO_ROLE);
    expect(refusal(by(support), support, "reset")?.message).toBe(OWN);
    expect(refusal(by(support), admin, "reset")?.message).toBe(ADMIN_ACCOUNT);
  });

  it("has every refusal's words in every catalogue, so the console says it in the reader's language", () => {
    const said = new Set<string>();
    for (const actor of [user, support, admin]) {
      for (const target of [actor, user, support2, admin2]) for (const action of ACTIONS) said.add(refusal(by(actor), target, action)?.message ?? "");
      for (const role of ["support", "admin"] as const) said.add(creationRefusal(by(actor), role)?.message ?? "");
    }
    said.delete("");
    expect([...said]).toEqual(expect.arrayContaining([OWN, OWN_DISABLE, OWN_PASSWORD, OWN_FACTORS]));
    for (const message of said) for (const locale of LOCALES.filter((l) => l !== "en-GB")) expect(translateSaid(locale, message), `${locale}: ${message}`).not.toBe(message);
  });
});

describe("creationRefusal: who may create which account (unit tier)", () => {
  it("lets the operator create any account, support a plain user's, and only an administrator a staff account", () => {
    for (const role of ["user", "support", "admin"] as const) {
      expect(creationRefusal(by(null), role)).toBeNull();
      expect(creationRefusal(by(person("a", "admin")), role)).toBeNull();
      expect(creationRefusal(by(person("u", "user")), role)).toEqual({ kind: "forbidden", reason: "no-role", message: NO_ROLE });
    }
    expect(creationRefusal(by(person("s", "support")), "user")).toBeNull();
    for (const role of ["support", "admin"] as const) {
      expect(creationRefusal(by(person("s", "support")), role)).toEqual({ kind: "forbidden", reason: "admin-only", message: CREATE_ADMIN_ONLY });
    }
  });
});

describe("changeRole (unit tier)", () => {
  const unit = useUnitDeps();
  const reload = async (id: string): Promise<User> => (await findUserById(unit.deps.db, id))!;

  it("knows the three roles and nothing else", () => {
    for (const role of ["user", "support", "admin"]) expect(isRole(role)).toBe(true);
    for (const role of ["", "Admin", "superuser", "users", " user"]) expect(isRole(role)).toBe(false);
  });

  it("changes another's role for an administrator: stored at once, that account only, audited with from and to", async () => {
    const admin = await addUser(unit.deps, { role: "admin" });
    const target = await addUser(unit.deps);
    const bystander = await addUser(unit.deps);
    unit.clock.advance(60_000);
    const actor = { user: admin, audit: { actor: admin.login_id, ip: "192.0.2.7", userAgent: "unit" } };
    expect(await changeRole(unit.deps, actor, target, "support")).toEqual({ kind: "changed", from: "user", to: "support" });
    const after = await reload(target.id);
    expect(after.role).toBe("support");
    expect(after.updated_at).toBe(unit.now());
    expect((await reload(bystander.id)).role).toBe("user");
    expect((await reload(bystander.id)).updated_at).toBe(bystander.updated_at);
    expect((await reload(admin.id)).role).toBe("admin");
    const events = await queryAudit(unit.deps.db, { subject: target.login_id, event: "role.changed" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ time: unit.now(), actor: admin.login_id, subject: target.login_id, ip: "192.0.2.7", userAgent: "unit", detail: { from: "user", to: "support" } });
  });

  it("changes nothing and audits nothing for the same role, an unknown role or a refusal; the refusal first", async () => {
    const admin = await addUser(unit.deps, { role: "admin" });
    const support = await addUser(unit.deps, { role: "support" });
    const target = await addUser(unit.deps, { role: "support" });
    unit.clock.advance(60_000);
    const as = (u: User) => ({ user: u, audit: { actor: u.login_id, ip: null, userAgent: null } });
    expect(await changeRole(unit.deps, as(admin), target, "support")).toEqual({ kind: "unchanged", role: "support" });
    expect(await changeRole(unit.deps, as(admin), target, "superuser")).toEqual({ kind: "unknown-role" });
    expect(await changeRole(unit.deps, as(support), target, "admin")).toEqual({ kind: "forbidden", reason: "admin-only", message: ADMIN_ONLY });
    expect(await changeRole(unit.deps, as(support), target, "superuser")).toMatchObject({ kind: "forbidden", reason: "admin-only" });
    expect(await changeRole(unit.deps, as(admin), admin, "admin")).toMatchObject({ kind: "forbidden", reason: "own-account" });
    expect(await changeRole(unit.deps, as(admin), admin, "user")).toMatchObject({ kind: "forbidden", reason: "own-account" });
    expect((await reload(admin.id)).role).toBe("admin");
    const unchanged = await reload(target.id);
    expect(unchanged.role).toBe("support");
    expect(unchanged.updated_at).toBe(target.updated_at);
    for (const who of [admin, target]) expect(await queryAudit(unit.deps.db, { subject: who.login_id, event: "role.changed" })).toEqual([]);
  });

  it("lets the operator change any role, audited as the operator", async () => {
    const target = await addUser(unit.deps, { role: "admin" });
    const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
    expect(await changeRole(unit.deps, operator, target, "user")).toEqual({ kind: "changed", from: "admin", to: "user" });
    expect((await reload(target.id)).role).toBe("user");
    const [event] = await queryAudit(unit.deps.db, { subject: target.login_id, event: "role.changed" });
    expect(event).toMatchObject({ actor: "operator:test", ip: "cli", detail: { from: "admin", to: "user" } });
  });
});
