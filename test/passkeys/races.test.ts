import { describe, expect, it } from "vitest";
import { consumeChallenge, issueChallenge } from "../../src/passkeys/challenges.ts";
import { finishPasskeyRegistration, startPasskeyRegistration } from "../../src/passkeys/registration.ts";
import type { RelyingParty } from "../../src/passkeys/relying-party.ts";
import { createSession } from "../../src/session/sessions.ts";
import { passkeyBrings } from "../../src/strong-factors/manage.ts";
import { addUser } from "../support/app.ts";
import { SoftAuthenticator } from "../support/soft-authenticator.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

const RP: RelyingParty = { origin: "https://famos.test", rpId: "famos.test" };

/**
 * One credential ID in two registrations that finish at the same instant: one adds it, the other is
 * told "already added", not an error page from the UNIQUE index that the first one's row trips (on
 * PostgreSQL, two instances' transactions both read "not taken" before either commits; on SQLite one
 * server's one connection runs them one after the other, see useRacers). An authenticator makes a new credential per ceremony, so only a client that answers two ceremonies
 * with one credential does this; it must still get an answer, and one passkey. What a first passkey
 * brings (passkeyBrings: its recovery codes) comes once, with the one that is added.
 */
describe.each(DIALECTS)("two registrations of one credential at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "pkrace");

  it("one is added, the other refused as already added; one row, one passkey.added, one set of recovery codes", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const auth = new SoftAuthenticator();
    const ctx = { ip: "192.0.2.7", userAgent: "race-test" };
    const started = await Promise.all(
      [a, b].map(async (deps) => {
        const { session } = await createSession(deps.db, deps.random, race.now(), deps.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
        await deps.db.updateTable("sessions").set({ verified_at: race.now() }).where("id", "=", session.id).execute();
        const start = await startPasskeyRegistration(deps, user, { ...session, verified_at: race.now() }, { name: "Key", password: null }, RP, ctx);
        if (start.kind !== "options") throw new Error(`start: ${JSON.stringify(start)}`);
        return { deps, session: { ...session, verified_at: race.now() }, credential: auth.create(start.options, { origin: RP.origin }) };
      }),
    );
    expect(started[0]!.credential.id).toBe(started[1]!.credential.id);

    const outcomes = await Promise.all(
      started.map(({ deps, session, credential }, i) =>
        finishPasskeyRegistration(deps, user, session, { name: `Key ${i}`, credential: JSON.stringify(credential) }, RP, ctx, (tx, now) => passkeyBrings(tx, deps, user, session, ctx, now)),
      ),
    );
    expect(outcomes.map((o) => o.kind).sort()).toEqual(["added", "refused"]);
    expect(outcomes.find((o) => o.kind === "refused")).toEqual({ kind: "refused", reason: "already-added" });
    expect(await a.db.selectFrom("passkeys").select("credential_id").where("user_id", "=", user.id).execute()).toEqual([{ credential_id: auth.credentialId }]);
    const events = await a.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).where("event", "like", "passkey.%").execute();
    expect(events.map((e) => e.event)).toEqual(["passkey.added"]);
    const added = outcomes.find((o) => o.kind === "added");
    expect(added?.brought.recoveryCodes).toHaveLength(10);
    expect(await a.db.selectFrom("recovery_codes").select("id").where("user_id", "=", user.id).execute()).toHaveLength(10);
    const issued = await a.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).where("event", "=", "recovery-codes.issued").execute();
    expect(issued).toHaveLength(1);
  });
});

/**
 * Two challenges asked for one session and purpose at once (two tabs of one session, two instances):
 * one ceremony at a time per session, so only the later one stays live. On PostgreSQL each issue's
 * delete saw only committed rows, and both challenges stayed live.
 */
describe.each(DIALECTS)("two passkey challenges for one session at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "pkchal");

  it("leaves one live challenge: the other is gone and cannot be answered", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const { session } = await createSession(a.db, a.random, race.now(), a.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.8", userAgent: "race-test" });
    const challenges = await Promise.all([a, b].map((deps) => issueChallenge(deps, session.id, "register", race.now())));
    expect(await a.db.selectFrom("passkey_challenges").select("session_id").where("session_id", "=", session.id).execute()).toHaveLength(1);
    const answered = [];
    for (const challenge of challenges) answered.push(await consumeChallenge(a.db, session.id, "register", challenge, race.now()));
    expect(answered.sort()).toEqual([false, true]);
  });
});
