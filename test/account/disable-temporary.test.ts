import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessText, signInBarred } from "../../src/account/access.ts";
import { disableUser, enableUser } from "../../src/account/disable.ts";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { translator } from "../../src/i18n/translator.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const TEMPORARY = "tmp-pass-word-0815";

/**
 * A temporary password support read out before its user left does not come back with `famos user
 * enable`: disableUser spends a live one (as used, 0), so the sign-in refuses it as a wrong password
 * and the access line (console, `famos user show`) no longer offers it as valid. Both dialects.
 */
describe.each(["sqlite", "postgres"] as const)("disabling an account with a live temporary password (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_TEMP_PASSWORD_TTL: "72h" } });
  });
  afterAll(async () => t?.close());
  const line = (user: Parameters<typeof accessText>[1]) => accessText(translator("en-GB", "UTC"), user, t.deps.clock.now());

  it("spends it: after enable it signs in no more, and the access line says it is no longer valid", async () => {
    const user = await addUser(t.deps, { loginId: `${database}.left`, email: `${database}.left@dealer.example` });
    expect((await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY, "RITM21")).kind).toBe("set");
    expect((await disableUser(t.deps, operator, user.id)).kind).toBe("disabled");
    expect((await enableUser(t.deps, operator, user.id)).kind).toBe("enabled");

    const answer = await submitPassword(new FormClient(t.app), user.login_id, TEMPORARY);
    expect(answer.statusCode).toBe(401);
    expect(answer.headers.location).toBeUndefined();
    const back = (await findUserById(t.deps.db, user.id))!;
    expect(back.password_temporary_until).toBe(0);
    expect(signInBarred(back, t.deps.clock.now())).toBe("temporary-password-expired");
    expect(line(back)).toBe(translator("en-GB", "UTC").text("console.access.temporaryUsed"));
    expect(line(back)).not.toMatch(/valid until/);
  });

  it("leaves one that already ran out, and an account without one, as they were", async () => {
    const ranOut = await addUser(t.deps, { loginId: `${database}.ranout` });
    await setTemporaryPassword(t.deps, operator, ranOut.id, TEMPORARY, "RITM22");
    const until = (await findUserById(t.deps.db, ranOut.id))!.password_temporary_until!;
    const plain = await addUser(t.deps, { loginId: `${database}.plain` });
    const start = t.deps.clock.now();
    t.clock.set(until + 1);
    try {
      for (const u of [ranOut, plain]) {
        await disableUser(t.deps, operator, u.id);
        await enableUser(t.deps, operator, u.id);
      }
    } finally {
      t.clock.set(start);
    }
    expect((await findUserById(t.deps.db, ranOut.id))!.password_temporary_until).toBe(until);
    expect((await findUserById(t.deps.db, plain.id))!.password_temporary_until).toBeNull();
  });
});
