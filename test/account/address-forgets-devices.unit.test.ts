import { describe, expect, it } from "vitest";
import type { RequestContext } from "../../src/platform/request-context.ts";
import { confirmEmailChange, startEmailChange } from "../../src/profile/email-change.ts";
import { identifyDevice, rememberDevice } from "../../src/regulation/devices.ts";
import { createSession } from "../../src/session/sessions.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { outboxMailbox } from "../support/mailbox.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/**
 * A new OTP email is a new second factor, as a new password is a new first one. The attack: a colleague
 * who read the shared desk mailbox signed in as her once (the password written on the desk) and holds a
 * device cookie for her login ID. She moves her codes to her own mailbox on Profile. That colleague's
 * browser must no longer be a known device, kept out of the login ID's and the address's pauses and the
 * request limit with a device's own budget of guesses (SPEC "Locks"). The browser that changed the
 * address stays known. The other way round (someone with her session moving the codes to his address)
 * takes her sign-in anyway, and support's OTP email reset, which revokes every device, gives it back.
 */
describe("a new OTP email forgets the other browsers' device cookies (unit tier)", () => {
  const unit = useUnitDeps();
  const now = () => unit.clock.now();
  const ctx = (deviceTokens: string[] = []): RequestContext => ({ ip: "198.51.100.7", userAgent: "address-devices-unit", deviceTokens });
  const known = (user: User, token: string) => identifyDevice(unit.deps, [token], user.login_key, now());
  const entry = (email: string) => ({ email, confirmEmail: email, ownMailbox: true });

  it("Profile's email change: the colleague's device is forgotten, the browser that changed it stays known, and the audit says so", async () => {
    const user = await addUser(unit.deps);
    const owner = await rememberDevice(unit.deps, unit.db, user.login_key, null, now());
    const colleague = await rememberDevice(unit.deps, unit.db, user.login_key, null, now());
    const { session } = await createSession(unit.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    const started = await startEmailChange(unit.deps, user, session, { entry: entry("jane.own@dealer.example"), password: user.password }, ctx([owner]));
    expect(started).toMatchObject({ kind: "code-sent" });
    const flow = await unit.db.selectFrom("sessions").select("flow_id").where("id", "=", session.id).executeTakeFirstOrThrow();
    const code = await outboxMailbox(unit.db).code("jane.own@dealer.example", 0);
    const confirmed = await confirmEmailChange(unit.deps, user, { ...session, flow_id: flow.flow_id }, code, ctx([owner]));
    expect(confirmed.kind).toBe("changed");
    expect(await known(user, colleague)).toBeNull();
    expect(await known(user, owner)).not.toBeNull();
    const event = await unit.db.selectFrom("audit").select("detail").where("subject", "=", user.login_id).where("event", "=", "email.changed").executeTakeFirstOrThrow();
    expect(JSON.parse(event.detail)).toMatchObject({ devicesForgotten: 1 });
  });

  it("famos user import --update with a new OTP email forgets every device; a row without one leaves them", async () => {
    const user = await addUser(unit.deps);
    const colleague = await rememberDevice(unit.deps, unit.db, user.login_key, null, now());
    const row = (email: string | null) => ({ line: 2, loginId: user.login_id, fullName: user.full_name, partnerNumber: user.partner_number, role: user.role, email, passwordHash: user.password_hash });
    const actor = { actor: "operator:test", ip: null, userAgent: null };
    await storeImportedUsers(unit.deps, [row(null)], { update: true, actor });
    expect(await known(user, colleague)).not.toBeNull();
    await storeImportedUsers(unit.deps, [row("jane.own@dealer.example")], { update: true, actor });
    expect(await known(user, colleague)).toBeNull();
  });
});
