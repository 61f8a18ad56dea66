import { describe, expect, it } from "vitest";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { changePassword } from "../../src/profile/password-change.ts";
import { identifyDevice, rememberDevice } from "../../src/regulation/devices.ts";
import { createSession } from "../../src/session/sessions.ts";
import type { Acting } from "../../src/support/acting.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const NEW = "a brand new passphrase 42";
const operator: Acting = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/**
 * The attack: someone who had the password (and, on a shared desk mailbox, the codes) signed in once
 * from her own browser and holds its device cookie. The owner, suspecting it, changes or resets her
 * password. That cookie must no longer be a known device: it would keep the attacker out of the login
 * ID's and the address's pauses and the request limit, with a device's own budget of guesses at the new
 * password (SPEC "Locks"). Every path that replaces the password forgets the login ID's devices but the
 * browser that replaced it (one home, account/access.ts); a hash upgrade at sign-in is no change.
 */
describe("a new password forgets the other browsers' device cookies (unit tier)", () => {
  const unit = useUnitDeps();
  const now = () => unit.clock.now();
  const ctx = (deviceTokens: string[] = []): RequestContext => ({ ip: "198.51.100.7", userAgent: "devices-unit", deviceTokens });
  const known = (user: User, token: string) => identifyDevice(unit.deps, [token], user.login_key, now());
  async function devicesOf(user: User) {
    const owner = await rememberDevice(unit.deps, unit.db, user.login_key, null, now());
    const attacker = await rememberDevice(unit.deps, unit.db, user.login_key, null, now());
    return { owner, attacker };
  }

  it("Profile's password change: the attacker's device is forgotten, the owner's browser stays known", async () => {
    const user = await addUser(unit.deps);
    const { owner, attacker } = await devicesOf(user);
    const { session } = await createSession(unit.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    const outcome = await changePassword(unit.deps, user, session, { currentPassword: user.password, newPassword: NEW, confirmNewPassword: NEW }, ctx([owner]));
    expect(outcome.kind).toBe("changed");
    expect(await known(user, attacker)).toBeNull();
    expect(await known(user, owner)).not.toBeNull();
  });

  it("\"Forgot password?\": the attacker's device is forgotten, the browser that reset stays known", async () => {
    const user = await addUser(unit.deps);
    const { owner, attacker } = await devicesOf(user);
    const state = await startPasswordReset(unit.deps, user.login_id, ctx([owner]));
    const code = await outboxMailbox(unit.db).code(user.otp_email!, 0);
    expect(await completePasswordReset(unit.deps, state, { code, newPassword: NEW, confirmNewPassword: NEW }, ctx([owner]))).toEqual({ kind: "reset" });
    expect(await known(user, attacker)).toBeNull();
    expect(await known(user, owner)).not.toBeNull();
  });

  it("support's temporary password (console or famos user set-password): every device is forgotten", async () => {
    const user = await addUser(unit.deps);
    const { owner, attacker } = await devicesOf(user);
    expect((await setTemporaryPassword(unit.deps, operator, user.id, NEW)).kind).toBe("set");
    expect(await known(user, attacker)).toBeNull();
    expect(await known(user, owner)).toBeNull();
  });

  it("famos user import --update with a new password hash forgets every device; one without leaves them", async () => {
    const user = await addUser(unit.deps);
    const { attacker } = await devicesOf(user);
    const row = (passwordHash: string, fullName: string) => ({ line: 2, loginId: user.login_id, fullName, partnerNumber: user.partner_number, role: user.role, email: user.otp_email, passwordHash });
    const actor = { actor: "operator:test", ip: null, userAgent: null };
    await storeImportedUsers(unit.deps, [row(user.password_hash, "Jane Renamed")], { update: true, actor });
    expect(await known(user, attacker)).not.toBeNull();
    await storeImportedUsers(unit.deps, [row("$2b$04$" + "a".repeat(53), "Jane Renamed")], { update: true, actor });
    expect(await known(user, attacker)).toBeNull();
  });

  it("audits how many devices the change forgot", async () => {
    const user = await addUser(unit.deps);
    const { owner } = await devicesOf(user);
    const { session } = await createSession(unit.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    await changePassword(unit.deps, user, session, { currentPassword: user.password, newPassword: NEW, confirmNewPassword: NEW }, ctx([owner]));
    const event = await unit.db.selectFrom("audit").select("detail").where("subject", "=", user.login_id).where("event", "=", "password.changed").executeTakeFirstOrThrow();
    expect(JSON.parse(event.detail)).toMatchObject({ devicesForgotten: 1 });
  });
});
