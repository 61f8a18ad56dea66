import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";
import { SoftAuthenticator } from "../support/soft-authenticator.ts";
import { DIALECTS } from "../store/dialects.ts";
import { failingStatements, type FailingStatements } from "../store/fail-after-commit.ts";
import { recoveryCodesFrom } from "../strong-factors/helpers.ts";

const BUSY = "FAMOS is busy at the moment and could not finish your request";
const ACCEPT_JSON = { headers: { accept: "application/json" } };
const RECOVERY_CODES = /^\s*insert into "recovery_codes"/i;
const SESSION_ADVANCE = /^\s*update "sessions" set "token_hash"/i;

/**
 * A first passkey brings recovery codes and, on the setup screen of FAMOS_STRONG_FACTOR_ROLES, the end
 * of that screen: all of it is one transaction with the passkey. A database failure at any of its
 * statements keeps nothing (503), so adding the same passkey again works and brings what it should;
 * before, the passkey was committed on its own, the codes and the session's advance failed after it,
 * and adding it again was refused as "already added" with the user stuck at the setup screen.
 */
describe.each(DIALECTS)("a first passkey and the database failing on its way (%s)", (dialect) => {
  let t: TestApp;
  let failing: FailingStatements;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_STRONG_FACTOR_ROLES: "support,admin" } });
    failing = failingStatements();
  });
  afterEach(() => failing.disarm());
  afterAll(async () => {
    failing?.restore();
    await t?.close();
  });

  /** The ceremony over the routes at `path`, answered by `authenticator` (the same one answers with the same credential). */
  async function addPasskey(client: FormClient, path: string, authenticator: SoftAuthenticator, arm?: Parameters<FailingStatements["arm"]>[0]) {
    const start = await client.post(`${path}/options`, { name: "Laptop" }, ACCEPT_JSON);
    expect(start.statusCode).toBe(200);
    const { options } = start.json() as { options: PublicKeyCredentialCreationOptionsJSON };
    const credential = authenticator.create(options, { origin: "http://localhost:80" });
    if (arm) failing.arm(arm);
    const answer = await client.post(path, { name: "Laptop", credential: JSON.stringify(credential) });
    failing.disarm();
    return answer;
  }

  const stored = async (userId: string, loginId: string) => ({
    passkeys: (await t.deps.db.selectFrom("passkeys").select("credential_id").where("user_id", "=", userId).execute()).length,
    recoveryCodes: (await t.deps.db.selectFrom("recovery_codes").select("id").where("user_id", "=", userId).execute()).length,
    audited: (await t.deps.db.selectFrom("audit").select("event").where("subject", "=", loginId).where((eb) => eb.or([eb("event", "like", "passkey.%"), eb("event", "like", "recovery-codes.%")])).execute())
      .map((row) => row.event)
      .sort(),
  });

  async function atSetup() {
    const user = await addUser(t.deps, { role: "support" });
    const { client, answer } = await signIn(t, { user, page: null });
    expect(answer.headers.location).toBe("/factor-setup");
    await client.get("/factor-setup");
    return { client, user };
  }

  for (const [what, statement] of [
    ["the recovery codes", RECOVERY_CODES],
    ["the session's advance", SESSION_ADVANCE],
  ] as const) {
    it(`the setup screen: a failure at ${what} keeps no passkey (503); adding it again brings the codes and the console`, async () => {
      const { client, user } = await atSetup();
      const authenticator = new SoftAuthenticator();
      const failed = await addPasskey(client, "/factor-setup/passkey", authenticator, statement);
      expect(failing.failed()).toMatch(statement);
      expect(failed.statusCode).toBe(503);
      expect(failed.body).toContain(BUSY);
      expect(await stored(user.id, user.login_id)).toEqual({ passkeys: 0, recoveryCodes: 0, audited: [] });
      // Still at the setup screen, from which the same passkey is added this time.
      expect((await client.get("/support")).headers.location).toBe("/factor-setup");
      await client.get("/factor-setup");
      const again = await addPasskey(client, "/factor-setup/passkey", authenticator);
      expect(again.statusCode).toBe(200);
      expect(recoveryCodesFrom(again.body)).toHaveLength(10);
      expect((await client.get("/support")).statusCode).toBe(200);
      expect(await stored(user.id, user.login_id)).toEqual({ passkeys: 1, recoveryCodes: 10, audited: ["passkey.added", "recovery-codes.issued"] });
    });
  }

  it("Profile: a failure at the first recovery codes keeps no passkey (503); adding it again shows the codes", async () => {
    const { client, user } = await signIn(t);
    const authenticator = new SoftAuthenticator();
    const failed = await addPasskey(client, "/profile/passkeys", authenticator, RECOVERY_CODES);
    expect(failing.failed()).toMatch(RECOVERY_CODES);
    expect(failed.statusCode).toBe(503);
    expect(await stored(user.id, user.login_id)).toEqual({ passkeys: 0, recoveryCodes: 0, audited: [] });
    await client.get("/profile");
    const again = await addPasskey(client, "/profile/passkeys", authenticator);
    expect(again.statusCode).toBe(200);
    expect(recoveryCodesFrom(again.body)).toHaveLength(10);
    expect(await stored(user.id, user.login_id)).toEqual({ passkeys: 1, recoveryCodes: 10, audited: ["passkey.added", "recovery-codes.issued"] });
  });

  it("the setup screen: a success keeps all of it in one commit; a failure after that commit still shows the codes", async () => {
    const { client, user } = await atSetup();
    const added = await addPasskey(client, "/factor-setup/passkey", new SoftAuthenticator(), "after-commit");
    expect(added.body).not.toContain(BUSY);
    expect(added.statusCode).toBe(200);
    expect(recoveryCodesFrom(added.body)).toHaveLength(10);
    expect(await stored(user.id, user.login_id)).toEqual({ passkeys: 1, recoveryCodes: 10, audited: ["passkey.added", "recovery-codes.issued"] });
    expect((await client.get("/support")).statusCode).toBe(200);
  });

  it("Profile: a success keeps all of it in one commit; a failure after that commit still shows the codes", async () => {
    const { client, user } = await signIn(t);
    const added = await addPasskey(client, "/profile/passkeys", new SoftAuthenticator(), "after-commit");
    expect(added.body).not.toContain(BUSY);
    expect(added.statusCode).toBe(200);
    expect(recoveryCodesFrom(added.body)).toHaveLength(10);
    expect(await stored(user.id, user.login_id)).toEqual({ passkeys: 1, recoveryCodes: 10, audited: ["passkey.added", "recovery-codes.issued"] });
  });
});
