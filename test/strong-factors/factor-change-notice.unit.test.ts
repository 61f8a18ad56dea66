import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listPasskeys } from "../../src/passkeys/passkeys.ts";
import type { TestApp } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";
import { SoftAuthenticator } from "../support/soft-authenticator.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { setUpAppOnProfile } from "./helpers.ts";

const ORIGIN = "http://localhost:80";
const JSON_ACCEPT = { headers: { accept: "application/json" } };

/**
 * ASVS 2.5.5 / 2.2.3: the owner is told when a second factor of hers is added, replaced or removed.
 * The attacker: a colleague at the shared counter PC where she left her Profile open (a code confirmed
 * minutes ago, so no password is asked), or who saw her type the password. He adds his phone's passkey
 * or authenticator app, or makes a new set of recovery codes and photographs it; from then on her
 * password (which he saw) and his factor sign in as her, her mailbox never involved. Before, only the
 * audit trail knew: no mail went to her OTP email, as one goes for a new address or a new password.
 */
describe("a change of second factors on Profile tells the account's OTP email", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  const notices = async (userId: string) =>
    (await u.deps.db.selectFrom("outbox").select(["recipient", "subject", "text_body"]).where("user_id", "=", userId).where("kind", "=", "notice.factor-changed").orderBy(sql`rowid`).execute());

  async function addPasskey(client: FormClient, name: string) {
    const start = await client.post("/profile/passkeys/options", { name }, JSON_ACCEPT);
    expect(start.statusCode).toBe(200);
    const options = (start.json() as { options: PublicKeyCredentialCreationOptionsJSON }).options;
    const credential = new SoftAuthenticator().create(options, { origin: ORIGIN });
    const finish = await client.post("/profile/passkeys", { name, credential: JSON.stringify(credential) });
    expect([200, 303]).toContain(finish.statusCode);
  }

  it("a passkey added, then another, then one removed: one notice each, naming the login ID, the passkey and what to do if it was not her", async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    await addPasskey(client, "Counter PC");
    const first = await notices(user.id);
    expect(first).toHaveLength(1);
    expect(first[0]!.recipient).toBe(user.otp_email);
    expect(first[0]!.subject).toBe("Your FAMOS sign-in factors were changed");
    expect(first[0]!.text_body).toContain(`A passkey named “Counter PC” was added to the FAMOS login ID ${user.login_id}`);
    expect(first[0]!.text_body).toContain("If this was not you");
    await addPasskey(client, "Phone");
    const [passkey] = (await listPasskeys(u.deps.db, user.id)).filter((p) => p.name === "Phone");
    expect((await client.post(`/profile/passkeys/${passkey!.id}/remove`, {})).statusCode).toBe(303);
    const all = await notices(user.id);
    expect(all).toHaveLength(3);
    expect(all[2]!.text_body).toContain("A passkey named “Phone” was removed from the FAMOS login ID");
  });

  it("an authenticator app set up, then new recovery codes, then the app removed: one notice each", async () => {
    const { client, user } = await signIn(u, { page: "/profile" });
    await setUpAppOnProfile({ clock: u.clock } as unknown as TestApp, client);
    expect((await notices(user.id)).map((n) => n.text_body)).toEqual([expect.stringContaining(`An authenticator app was set up for the FAMOS login ID ${user.login_id}`)]);
    await client.get("/profile");
    expect((await client.post("/profile/recovery-codes", {})).statusCode).toBe(200);
    await client.get("/profile");
    expect((await client.post("/profile/app/remove", {})).statusCode).toBe(303);
    const texts = (await notices(user.id)).map((n) => n.text_body);
    expect(texts).toHaveLength(3);
    expect(texts[1]).toContain("A new set of recovery codes was made for the FAMOS login ID");
    expect(texts[2]).toContain("The authenticator app was removed from the FAMOS login ID");
  });
});
