import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appFactor } from "../../src/strong-factors/authenticator-app.ts";
import { issueRecoveryCodes, recoveryCodeFactor } from "../../src/strong-factors/recovery-codes.ts";
import { addUser } from "../support/app.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { addConfirmedApp, appCode } from "./helpers.ts";

/**
 * The single-use writes themselves, with the race laid out step by step: two requests both verify
 * the same proof before either uses it up. Only the conditional write can tell them apart (rule 12:
 * the check and the change in one statement), and the loser must hear "used".
 */
describe("single use under a race (unit)", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  it("an app code verified by two requests is stored by one; the other's write answers used", async () => {
    const user = await addUser(u.deps);
    const secret = await addConfirmedApp(u.deps, user.id);
    const now = u.clock.now();
    const code = await appCode(secret, now);
    const [a, b] = [appFactor(u.deps, user, code, "signin"), appFactor(u.deps, user, code, "signin")];
    expect(await a.verify(now)).toEqual({ kind: "ok" });
    expect(await b.verify(now)).toEqual({ kind: "ok" });
    expect(await u.deps.db.transaction().execute((tx) => a.consume(tx, now))).toBe("consumed");
    expect(await u.deps.db.transaction().execute((tx) => b.consume(tx, now))).toBe("used");
  });

  it("a recovery code verified by two requests is marked used by one; the other's write answers used and mails nothing", async () => {
    const user = await addUser(u.deps);
    const { codes } = await u.deps.db.transaction().execute((tx) => issueRecoveryCodes(tx, u.deps, user.id));
    const now = u.clock.now();
    const [a, b] = [recoveryCodeFactor(u.deps, user, codes[0]!), recoveryCodeFactor(u.deps, user, codes[0]!)];
    expect(await a.verify(now)).toEqual({ kind: "ok" });
    expect(await b.verify(now)).toEqual({ kind: "ok" });
    expect(await u.deps.db.transaction().execute((tx) => a.consume(tx, now))).toBe("consumed");
    expect(await u.deps.db.transaction().execute((tx) => b.consume(tx, now))).toBe("used");
    const mails = await u.deps.db.selectFrom("outbox").select("kind").where("user_id", "=", user.id).where("kind", "=", "notice.recovery-code-used").execute();
    expect(mails).toHaveLength(1);
  });
});
