import { describe, expect, it } from "vitest";
import { removeOwnPasskey } from "../../src/passkeys/removal.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { endOtherSession } from "../../src/session/own-sessions.ts";
import { removeApp, renewRecoveryCodes } from "../../src/strong-factors/manage.ts";
import { issueRecoveryCodes } from "../../src/strong-factors/recovery-codes.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { addConfirmedApp } from "./helpers.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * A change of second factors on Profile asks for the password again when no code was confirmed in
 * the last 15 minutes, and that check spends an argon2id verification (tens of milliseconds) after
 * the request loaded its session. A session its user ended from another browser in that time (after
 * seeing a sign-in they did not know) has no more say (ASVS 3.3.1): it must not be shown a new set of
 * recovery codes, nor remove the authenticator app or a passkey. Each test ends the session, on a
 * second connection, at the moment the password check has counted its attempt.
 */
describe.each(DIALECTS)("a session ended while its factor change checks the password on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "sf_ended");
  const ctx = { ip: "192.0.2.90", userAgent: "sf-ended-test" };

  /** A user with an app, recovery codes and a passkey, signed in without a recent code. */
  async function equipped() {
    const a = competing.t.deps[0]!;
    const user = await addUser(a);
    await addConfirmedApp(a, user.id);
    await a.db.transaction().execute((tx) => issueRecoveryCodes(tx, a, user.id));
    const passkeyId = `pk-${user.id}`;
    await a.db
      .insertInto("passkeys")
      .values({ id: passkeyId, user_id: user.id, credential_id: `cred-${user.id}`, public_key: "AA", sign_count: 0, transports: null, device_type: "singleDevice", backed_up: 0, name: "Key", created_at: competing.t.clock.now(), last_used_at: null })
      .execute();
    const { session } = await createSession(a.db, a.random, competing.t.clock.now(), a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
    const codes = async () => (await a.db.selectFrom("recovery_codes").select("code_hash").where("user_id", "=", user.id).orderBy("code_hash").execute()).map((r) => r.code_hash);
    return { user, session, passkeyId, codesBefore: await codes(), codes };
  }

  /** Deps whose password check, once it has counted its attempt, waits for the user's other browser to end `session`. */
  function endedDuringPasswordCheck(user: User, session: Session) {
    return competing.during((rows) => rows.some((row) => "failures" in row), async () => {
      const a = competing.t.deps[1]!;
      const other = await createSession(a.db, a.random, competing.t.clock.now(), a.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
      if ((await endOtherSession(a, user, other.session, session.id, ctx)).kind !== "ended") throw new Error("not ended");
    });
  }

  it("new recovery codes: none are made or shown, the old set still works", async () => {
    const { user, session, codesBefore, codes } = await equipped();
    const { deps, changed } = endedDuringPasswordCheck(user, session);
    const outcome = await renewRecoveryCodes(deps, user, session, user.password, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(await codes()).toEqual(codesBefore);
  });

  it("removing the authenticator app: the app stays", async () => {
    const { user, session } = await equipped();
    const { deps, changed } = endedDuringPasswordCheck(user, session);
    const outcome = await removeApp(deps, user, session, user.password, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(await competing.t.deps[0]!.db.selectFrom("authenticator_apps").select("user_id").where("user_id", "=", user.id).execute()).toHaveLength(1);
  });

  it("removing a passkey: the passkey stays", async () => {
    const { user, session, passkeyId } = await equipped();
    const { deps, changed } = endedDuringPasswordCheck(user, session);
    const outcome = await removeOwnPasskey(deps, user, session, { id: passkeyId, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome).toEqual({ kind: "signed-out" });
    expect(await competing.t.deps[0]!.db.selectFrom("passkeys").select("id").where("id", "=", passkeyId).execute()).toHaveLength(1);
  });
});
