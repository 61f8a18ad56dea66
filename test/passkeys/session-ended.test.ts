import { describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { finishPasskeyRegistration, startPasskeyRegistration } from "../../src/passkeys/registration.ts";
import type { RelyingParty } from "../../src/passkeys/relying-party.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { endOtherSession } from "../../src/session/own-sessions.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { SoftAuthenticator } from "../support/soft-authenticator.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

const RP: RelyingParty = { origin: "https://famos.test", rpId: "famos.test" };

/**
 * "Add a passkey", second half: the session that asks was loaded with the request, then the browser's
 * attestation is verified (its challenge used up, its signature checked) before the passkey is stored.
 * A session ended in that time (by its user from another browser, after seeing a sign-in they do not
 * know; by support disabling the account) has no more say, as for a password change (ASVS 3.3.1): a
 * passkey it stored would let its holder in for good. Each test ends the session, on a second
 * connection, at the moment the verification uses the challenge up.
 */
describe.each(DIALECTS)("a session ended while its new passkey is verified on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "pk_ended");
  const ctx = { ip: "192.0.2.70", userAgent: "session-ended-test" };
  const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } };

  /** A fully signed-in session with a code confirmed just now, its registration started. */
  async function started(user: User) {
    const a = competing.t.deps[0]!;
    const now = competing.t.clock.now();
    const created = await createSession(a.db, a.random, now, a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    await a.db.updateTable("sessions").set({ verified_at: now }).where("id", "=", created.session.id).execute();
    const session: Session = { ...created.session, verified_at: now };
    const start = await startPasskeyRegistration(a, user, session, { name: "Key", password: null }, RP, ctx);
    if (start.kind !== "options") throw new Error(`start: ${JSON.stringify(start)}`);
    return { session, credential: JSON.stringify(new SoftAuthenticator().create(start.options, { origin: RP.origin })) };
  }

  async function finishWhile(change: (user: User, session: Session) => Promise<unknown>) {
    const user = await addUser(competing.t.deps[0]!);
    const { session, credential } = await started(user);
    // The first statement of the finish is the challenge's use, inside the verification.
    const { deps, changed } = competing.during(() => true, () => change(user, session));
    const outcome = await finishPasskeyRegistration(deps, user, session, { name: "Key", credential }, RP, ctx);
    expect(changed()).toBe(true);
    const passkeys = await competing.t.deps[0]!.db.selectFrom("passkeys").select("id").where("user_id", "=", user.id).execute();
    const added = await competing.t.deps[0]!.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).where("event", "=", "passkey.added").execute();
    return { outcome, passkeys, added };
  }

  /** The user's other browser, ending this session from its Profile tab. */
  async function endFromOtherBrowser(user: User, session: Session) {
    const a = competing.t.deps[1]!;
    const other = await createSession(a.db, a.random, competing.t.clock.now(), a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    const ended = await endOtherSession(a, user, other.session, session.id, ctx);
    if (ended.kind !== "ended") throw new Error("not ended");
  }

  it("ended by its user from another browser: no passkey is stored, and the browser is signed out", async () => {
    const { outcome, passkeys, added } = await finishWhile(endFromOtherBrowser);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(passkeys).toEqual([]);
    expect(added).toEqual([]);
  });

  it("ended by support disabling the account: no passkey is stored", async () => {
    const { outcome, passkeys } = await finishWhile((user) => disableUser(competing.t.deps[1]!, operator, user.id));
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(passkeys).toEqual([]);
  });

  it("another of the user's sessions ended meanwhile: the passkey is added", async () => {
    const other = async (user: User) => {
      const a = competing.t.deps[1]!;
      const extra = await createSession(a.db, a.random, competing.t.clock.now(), a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
      await a.db.updateTable("sessions").set({ ended_at: competing.t.clock.now(), end_reason: "signout" }).where("id", "=", extra.session.id).execute();
    };
    const { outcome, passkeys } = await finishWhile(other);
    expect(outcome.kind).toBe("added");
    expect(passkeys).toHaveLength(1);
  });
});
