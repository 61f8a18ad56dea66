import { afterEach, describe, expect, it } from "vitest";
import { deriveKeys } from "../../src/platform/keys.ts";
import { appSealed, sealedSecretsToTell } from "../../src/strong-factors/previous-secret.ts";
import { sealSecret } from "../../src/strong-factors/secret-box.ts";
import { createUser, type NewUser } from "../../src/users/users.ts";
import { afterFirstResult } from "../store/after-result.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";

/**
 * The start's look at the app secrets (sealedSecretsToTell) keeps "every one opens under this key"
 * by the login digests' rule (src/store/key-fingerprints.ts). Its race: an instance still on the old
 * secret seals an app right after the look has read its page of apps, the worst moment (a plugin on
 * the looking instance makes it certain). The look cannot see it, so it must not keep its key as
 * done: the next start reads them all again and tells it.
 */
const oldKeys = deriveKeys(Buffer.alloc(32, 7));
const person = (loginId: string): NewUser => ({ loginId, fullName: loginId, partnerNumber: "7", role: "admin", passwordHash: "x", otpEmail: null });

describe.each(DIALECTS)("an app sealed under the old secret while the start looks, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("is told at the next start", async () => {
    t = await openInstances(dialect, 2, `sealed_race_${dialect}`);
    const [looker, old] = t.deps as [(typeof t.deps)[0], (typeof t.deps)[0]];
    const now = t.clock.now();
    const anna = (await createUser(old.db, looker.keys, old.random, now, person("Anna")))!;
    const dora = (await createUser(old.db, looker.keys, old.random, now, person("Dora")))!;
    const app = (userId: string, key: Buffer) => ({ user_id: userId, secret: sealSecret(key, old.random, userId, "JBSWY3DPEHPK3PXP"), created_at: now, confirmed_at: now, last_step: null, last_used_at: null });
    await looker.db.insertInto("authenticator_apps").values(app(anna.id, looker.keys.totpSecret)).execute();
    // The old instance sets up Dora's app as the look has read its page (as startAppSetup writes it).
    const racing = looker.db.withPlugin(
      afterFirstResult(["secret", "user_id"], () =>
        old.db.transaction().execute(async (tx) => {
          await tx.insertInto("authenticator_apps").values(app(dora.id, oldKeys.totpSecret)).execute();
          await appSealed(tx, oldKeys);
        }),
      ),
    );
    expect(await sealedSecretsToTell(racing, dialect, looker.keys, looker.random, now)).toEqual({ apps: 0, lost: 0, recoveryCodes: null });
    expect(await sealedSecretsToTell(looker.db, dialect, looker.keys, looker.random, now)).toEqual({ apps: 0, lost: 1, recoveryCodes: null });
  });
});
