import { describe, expect, it } from "vitest";
import { createSession } from "../../src/session/sessions.ts";
import { startAppSetup } from "../../src/strong-factors/authenticator-app.ts";
import { issueRecoveryCodes } from "../../src/strong-factors/recovery-codes.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

/**
 * "Generate new recovery codes" twice at once (two tabs, a double submit, two instances behind the
 * proxy): the old set stops working and exactly one new set of ten is left — the one the later answer
 * showed. On PostgreSQL each transaction's delete ran before the other's insert was committed, so
 * neither removed the other's set and twenty codes worked, ten of them on a page already closed.
 */
describe.each(DIALECTS)("two renewals of one user's recovery codes at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "rcrace");

  it("leaves one set of ten, the last one issued; the first set and the old set no longer exist", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    await a.db.transaction().execute((tx) => issueRecoveryCodes(tx, a, user.id));
    const old = await a.db.selectFrom("recovery_codes").select("id").where("user_id", "=", user.id).execute();
    expect(old).toHaveLength(10);

    const finished: string[][] = [];
    await Promise.all(
      [a, b].map((deps) =>
        deps.db.transaction().execute(async (tx) => {
          await issueRecoveryCodes(tx, deps, user.id);
          finished.push((await tx.selectFrom("recovery_codes").select("id").where("user_id", "=", user.id).execute()).map((r) => r.id).sort());
        }),
      ),
    );
    const left = (await a.db.selectFrom("recovery_codes").select("id").where("user_id", "=", user.id).execute()).map((r) => r.id).sort();
    expect(left).toHaveLength(10);
    expect(left).toEqual(finished.at(-1));
    expect(left.some((id) => old.some((o) => o.id === id))).toBe(false);
  });
});

/**
 * "Set up an authenticator app" twice at once (a double submit, two tabs, two instances): the later
 * one starts with its own secret and the earlier one's QR code stops working, as when the user starts
 * again later. On PostgreSQL the second's delete did not see the first's uncommitted row, its insert
 * then met that row, and it answered "exists", the refusal meant for a confirmed app.
 */
describe.each(DIALECTS)("two authenticator app setups at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "apprace");

  it("both start, and one app (not confirmed) is left waiting for its first code", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const { session } = await createSession(a.db, a.random, a.clock.now(), a.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "race" });
    const outcomes = await Promise.all([a, b].map((deps) => startAppSetup(deps, user, session, { ip: "192.0.2.1", userAgent: "race" })));
    expect(outcomes).toEqual([{ kind: "started" }, { kind: "started" }]);
    const apps = await a.db.selectFrom("authenticator_apps").select(["confirmed_at"]).where("user_id", "=", user.id).execute();
    expect(apps).toEqual([{ confirmed_at: null }]);
  });
});
