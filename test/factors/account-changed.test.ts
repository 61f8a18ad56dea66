import { loginCounterKey } from "../support/login-counter.ts";
import { describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { checkPassword } from "../../src/factors/check-password.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { hashPassword } from "../../src/password/hash.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { setPasswordHash } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { addConfirmedApp } from "../strong-factors/helpers.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * The password check reads the account, then spends an argon2id verification on it (tens of
 * milliseconds, more under load) before the sign-in is settled. Whatever support or the account's own
 * other sessions commit in that time must hold: a leaver disabled then, or a password replaced then,
 * must not sign in with what was true before; an OTP email reset then must not get a code to the
 * address support just removed. Each test commits its change, on a second connection (another
 * instance, or the command line), at the moment the check has read the account.
 */
describe.each(DIALECTS)("an account changed while its password is checked on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "changed");
  const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } };
  const ctx = { ip: "198.51.100.9", userAgent: "account-changed-test" };

  /** The sign-in's deps, whose first read of `loginKey`'s account waits for `change` on the other connection. */
  const signInWith = (change: () => Promise<unknown>, loginKey: string) =>
    competing.during((rows) => rows.some((row) => row.login_key === loginKey && "password_hash" in row), change);

  async function liveSessions(userId: string) {
    return competing.t.deps[0]!.db.selectFrom("sessions").select("stage").where("user_id", "=", userId).where("ended_at", "is", null).execute();
  }

  it("a leaver disabled during the check is refused, and no session is made", async () => {
    const user = await addUser(competing.t.deps[0]!);
    const { deps, changed } = signInWith(() => disableUser(competing.t.deps[1]!, operator, user.id), user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("refused");
    expect(await liveSessions(user.id)).toEqual([]);
  });

  it("a password replaced by support during the check: the old one is refused", async () => {
    const user = await addUser(competing.t.deps[0]!);
    const { deps, changed } = signInWith(() => setTemporaryPassword(competing.t.deps[1]!, operator, user.id, "a brand new temporary passphrase"), user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("refused");
    expect(await liveSessions(user.id)).toEqual([]);
  });

  it("an OTP email reset during the check: no code goes to the removed address, and User profile comes next", async () => {
    const user = await addUser(competing.t.deps[0]!, { fullName: "Jane Smith", partnerNumber: "01234" });
    const reset = () => resetOtpEmail(competing.t.deps[1]!, operator, user.id, { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-7" });
    const { deps, changed } = signInWith(reset, user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("enrol");
    const codeMail = await competing.t.deps[0]!.db.selectFrom("outbox").select("kind").where("user_id", "=", user.id).where("kind", "not like", "notice.%").execute();
    expect(codeMail).toEqual([]);
    expect((await liveSessions(user.id)).map((s) => s.stage)).toEqual(["enrol"]);
  });

  it("the user's own new password, saved by her other session during the check: the old one is refused", async () => {
    // Only the hash changes (Profile's "Change password" writes it so): nothing else tells the change.
    const user = await addUser(competing.t.deps[0]!);
    const changeOwn = async () => setPasswordHash(competing.t.deps[1]!.db, user.id, await hashPassword("her own brand new passphrase"), competing.t.clock.now());
    const { deps, changed } = signInWith(changeOwn, user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("refused");
    expect(await liveSessions(user.id)).toEqual([]);
  });

  it("an account changed again at every check is refused after the third, uncounted, and nothing is written", async () => {
    // Each time the password is found right, before the check settles, the same password is stored
    // anew (a script rewriting the account): the check runs again, at most three times in all.
    const user = await addUser(competing.t.deps[0]!);
    const a = competing.t.deps[0]!;
    let rewrites = 0;
    let wrote = false;
    const outcome = await checkPassword(a, { loginId: user.login_id, password: user.password, purpose: "signin" }, ctx, async () => {
      rewrites += 1;
      if (rewrites > 3) throw new Error("the password was checked a fourth time");
      await setPasswordHash(competing.t.deps[1]!.db, user.id, await hashPassword(user.password), competing.t.clock.now());
      return async () => {
        wrote = true;
      };
    });
    expect(outcome).toEqual({ kind: "wrong", pause: null });
    expect(rewrites).toBe(3);
    expect(wrote).toBe(false);
    const [failed] = await queryAudit(a.db, { subject: user.login_key, event: "password.failed" });
    expect(failed?.detail).toMatchObject({ reason: "account-changing" });
    const counted = await a.db.selectFrom("throttles").select("failures").where("key", "=", loginCounterKey("password", user.login_key)).executeTakeFirst();
    expect(counted?.failures ?? 0).toBe(0);
  });

  it("made support during the check, with an authenticator app, under FAMOS_STRONG_FACTOR_ROLES=support: asked for the app, no code mailed", async () => {
    // The role decides whether the emailed code may sign in at all (strong-factors/policy.ts).
    const user = await addUser(competing.t.deps[0]!);
    await addConfirmedApp(competing.t.deps[0]!, user.id);
    const promote = () => competing.t.deps[1]!.db.updateTable("users").set({ role: "support" }).where("id", "=", user.id).execute();
    const { deps, changed } = signInWith(promote, user.login_key);
    const strict = { ...deps, config: { ...deps.config, strongFactorRoles: ["support", "admin"] } };
    const outcome = await passwordStep(strict, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("strong-factor");
    const codes = await competing.t.deps[0]!.db.selectFrom("outbox").select("kind").where("user_id", "=", user.id).where("kind", "like", "code.%").execute();
    expect(codes).toEqual([]);
  });

  it("moved during the check from a partner whose 2FA wave has not started to one with 2FA on: User profile, not the password-only portal", async () => {
    // For a user not yet enrolled, the partner decides whether the password alone still signs in (the
    // rollout's wave): the check must settle on the partner the account has now, or the move would let
    // one sign-in skip 2FA.
    const a = competing.t.deps[0]!;
    await setWaveStart(a.db, "P-LATE", competing.t.clock.now() + 30 * 24 * 3_600_000, competing.t.clock.now(), "test");
    const user = await addUser(a, { partnerNumber: "P-LATE", email: null });
    const move = () => competing.t.deps[1]!.db.updateTable("users").set({ partner_number: "P-NOW" }).where("id", "=", user.id).execute();
    const { deps, changed } = signInWith(move, user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("enrol");
    expect((await liveSessions(user.id)).map((s) => s.stage)).toEqual(["enrol"]);
  });

  it("an address waiting for confirmation set by her other session during the check is seen by the sign-in that settles", async () => {
    // Profile's "change the OTP email" stores the new address as pending: the check is made again on
    // the account as it is now, so the sign-in settles once, on the pending address's account.
    const user = await addUser(competing.t.deps[0]!);
    const pend = () => competing.t.deps[1]!.db.updateTable("users").set({ pending_email: "new.address@dealer.example" }).where("id", "=", user.id).execute();
    let checks = 0;
    const seen: (string | null)[] = [];
    const { deps, changed } = signInWith(pend, user.login_key);
    const outcome = await checkPassword(deps, { loginId: user.login_id, password: user.password, purpose: "signin" }, ctx, async (current) => {
      checks += 1;
      seen.push(current.pending_email);
      return async () => undefined;
    });
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("ok");
    expect(checks).toBe(2);
    expect(seen).toEqual([null, "new.address@dealer.example"]);
  });

  it("a language chosen in her other session during the check: the code mail is in it", async () => {
    const user = await addUser(competing.t.deps[0]!);
    const toGerman = () => competing.t.deps[1]!.db.updateTable("users").set({ locale: "de" }).where("id", "=", user.id).execute();
    const { deps, changed } = signInWith(toGerman, user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("code");
    const mails = await competing.t.deps[0]!.db.selectFrom("outbox").select("subject").where("user_id", "=", user.id).where("kind", "like", "code.%").execute();
    expect(mails).toEqual([{ subject: "Ihr FAMOS-Einmalkennwort" }]);
  });

  it("the same password stored anew during the check (another sign-in upgraded its hash) still signs in", async () => {
    const user = await addUser(competing.t.deps[0]!);
    const rehash = async () => setPasswordHash(competing.t.deps[1]!.db, user.id, await hashPassword(user.password), competing.t.clock.now());
    const { deps, changed } = signInWith(rehash, user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("code");
  });
});
