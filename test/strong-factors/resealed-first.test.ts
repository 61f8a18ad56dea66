import { afterEach, describe, expect, it } from "vitest";
import { checkSecondFactor } from "../../src/factors/check-second-factor.ts";
import { deriveKeys } from "../../src/platform/keys.ts";
import { keepFingerprint } from "../../src/store/key-fingerprints.ts";
import { appFactor } from "../../src/strong-factors/authenticator-app.ts";
import { previousSecretReport } from "../../src/strong-factors/previous-secret.ts";
import { openSecret } from "../../src/strong-factors/secret-box.ts";
import { afterFirstResult } from "../store/after-result.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { addUser, TEST_SECRET } from "../support/app.ts";
import { addConfirmedApp, appCode } from "./helpers.ts";

/**
 * A sign-in with an app sealed under FAMOS_SECRET_PREVIOUS keeps it under FAMOS_SECRET with a
 * conditional write, unless `famos reseal` (or another instance) got there first: then this request
 * sealed nothing. It must neither count a read under the old key (the metric) nor forget a start's
 * fingerprint (appSealed): `famos reseal` runs right after the sign-in read the app (a plugin makes it certain).
 */
const NEW_SECRET = "c".repeat(64);

describe.each(DIALECTS)("an app sealed again by famos reseal while a sign-in uses it, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("signs in; counts no read under the old key and forgets no start's fingerprint", async () => {
    t = await openInstances(dialect, 2, `resealed_first_${dialect}`, { FAMOS_SECRET: NEW_SECRET, FAMOS_SECRET_PREVIOUS: TEST_SECRET });
    const [a, reseal] = t.deps as [(typeof t.deps)[0], (typeof t.deps)[0]];
    const now = t.clock.now();
    const user = await addUser(a);
    const secret = await addConfirmedApp(a, user.id, deriveKeys(Buffer.from(TEST_SECRET, "hex")).totpSecret);
    const racing = a.db.withPlugin(
      afterFirstResult(["secret", "last_step"], async () => {
        expect(await previousSecretReport(reseal.db, reseal.keys, reseal.random, now, { reseal: true, record: true })).toMatchObject({ apps: 1, lost: 0 });
        // A start under another key (a rolling change) kept its fingerprint since.
        await keepFingerprint(reseal.db, "app-secret", "f00");
      }),
    );
    const check = await checkSecondFactor({ ...a, db: racing }, user, appFactor({ ...a, db: racing }, user, await appCode(secret, now), "signin"), { ip: "192.0.2.62", userAgent: "race" }, async () => "signed-in");
    expect(check).toEqual({ kind: "ok", value: "signed-in" });
    const row = await a.db.selectFrom("authenticator_apps").select(["secret", "last_step"]).where("user_id", "=", user.id).executeTakeFirstOrThrow();
    expect(openSecret(a.keys.totpSecret, user.id, row.secret)).toBe(secret);
    expect(row.last_step).not.toBeNull();
    expect(await a.metrics.registry.metrics()).not.toMatch(/famos_previous_secret_reads_total\{what="app"\}/);
    expect(await a.db.selectFrom("key_fingerprints").select(["purpose", "fingerprint"]).where("purpose", "=", "app-secret").execute()).toEqual([{ purpose: "app-secret", fingerprint: "f00" }]);
  });
});
