import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { unlockAccount } from "../../src/support/unlock.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

const HARD = 8;
const NEW = "reset by a stranger no";

/**
 * SPEC "Locks": "a stranger who knows a login ID cannot keep its owner out of her usual browser", and
 * "at 100 wrong codes the account stays locked until support unlocks it". With FAMOS_PASSWORD_RESET=self
 * the reset's code step needs no password, so anyone who knows a login ID can post wrong codes there:
 * counted on the sign-in's code counter, they reached FAMOS_CODE_HARD_LOCK and the lock until support
 * unlocks, which refuses every browser, the owner's usual one included (the docs audit's finding). The
 * reset's wrong codes count on a counter of their own: paused and, at FAMOS_CODE_HARD_LOCK, locked
 * until support unlocks it, the reset alone. Over in-memory SQLite and a fixed clock.
 */
describe("the reset's wrong codes lock the reset, never the owner's sign-in", () => {
  let t: UnitApp;
  beforeAll(async () => {
    t = await createUnitApp({ env: { FAMOS_PASSWORD_RESET: "self", FAMOS_CODE_HARD_LOCK: String(HARD), FAMOS_OTP_PER_HOUR: "1000", FAMOS_OTP_RESEND_WAIT: "0s" } });
  });
  afterAll(async () => t?.close());

  /** A stranger at a new address each time: step 1 for the login ID, then a wrong code in step 2. */
  let n = 0;
  async function strangerTries(loginId: string): Promise<{ status: number; body: string }> {
    const stranger = new FormClient(t.app, `198.51.100.${(n += 1) % 250}`);
    await stranger.get("/forgot-password");
    await stranger.post("/forgot-password", { loginId });
    await t.app.afterReply.settled();
    await stranger.get("/forgot-password/code");
    const answer = await stranger.post("/forgot-password/code", { code: "000000", newPassword: NEW, confirmNewPassword: NEW });
    return { status: answer.statusCode, body: answer.body };
  }

  /** Waits out every pause in force (the clock is fixed: moved, never slept). */
  const waitOut = () => t.clock.advance(2 * 60 * 60 * 1000);

  it(`after ${HARD} wrong reset codes from strangers the owner still signs in, from her usual browser and from a new one; the reset alone waits for support`, async () => {
    const owner = await addUser(t.deps, { loginId: "owner.kept", email: "owner@dealer.example" });
    // Her usual browser: a completed sign-in leaves its device cookie.
    const usual = await signIn(t, { user: owner, client: new FormClient(t.app, "192.0.2.10") });
    await usual.client.post("/logout");

    let refused = 0;
    for (let i = 0; i < HARD * 3 && refused === 0; i += 1) {
      const answer = await strangerTries("owner.kept");
      if (answer.status === 429) {
        waitOut();
        const again = await strangerTries("owner.kept");
        if (again.status === 429 && again.body.includes("retail IT")) refused += 1;
      }
    }
    expect(refused, "the reset ends locked until support unlocks it").toBe(1);

    // The owner: her usual browser, and a browser she never used, both sign in.
    await signIn(t, { user: owner, client: usual.client });
    await signIn(t, { user: owner, client: new FormClient(t.app, "192.0.2.11") });

    // The owner is told, in words that say her sign-in is not affected: a pause once, then the lock.
    const locks = await t.deps.db.selectFrom("outbox").select(["subject", "text_body"]).where("user_id", "=", owner.id).where("kind", "=", "lock").orderBy("created_at").execute();
    expect(locks.length).toBeGreaterThanOrEqual(2);
    expect(locks.every((m) => m.text_body.includes("Signing in is not affected."))).toBe(true);
    // Each subject says what its body says: paused while timed, locked at the end.
    expect(locks.slice(0, -1).every((m) => m.subject === "FAMOS password reset paused" && m.text_body.includes("has been paused for"))).toBe(true);
    expect(locks.at(-1)!.subject).toBe("FAMOS password reset locked");
    expect(locks.at(-1)!.text_body).toContain("It stays locked until your retail IT team unlocks it");

    // Support sees the reset's lock, and lifts it.
    const info = await accountLockInfo(t.deps, owner.login_key, t.clock.now());
    expect(info).toMatchObject({ hardLocked: false, locked: false, reset: { failures: HARD, locked: true, until: null } });
    const supportUser = await addUser(t.deps, { role: "support" });
    const supportDesk = await signIn(t, { user: supportUser, page: null });
    const page = (await supportDesk.client.get(`/support/users/${owner.id}`)).body;
    expect(page).toContain("Not locked. Password reset with a code locked until support unlocks it (8 wrong codes in a row); signing in is not affected");
    const support = (await findUserById(t.deps.db, supportUser.id))!;
    const unlocked = await unlockAccount(t.deps, { user: support, audit: { actor: support.login_id, ip: "192.0.2.99", userAgent: "test" } }, (await findUserById(t.deps.db, owner.id))!);
    expect(unlocked).toMatchObject({ kind: "unlocked", wasLocked: true });
    expect((await accountLockInfo(t.deps, owner.login_key, t.clock.now())).reset).toEqual({ failures: 0, locked: false, until: null });
    const audit = await queryAudit(t.deps.db, { subject: owner.login_id, event: "unlock" });
    expect(audit[0]?.detail).toMatchObject({ wasLocked: true, resetFailures: HARD });
  });
});
