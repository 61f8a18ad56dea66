import type { UnknownRow } from "kysely";
import { describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { completePasswordReset, type ResetState } from "../../src/password-reset/reset.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { verifyPassword } from "../../src/password/hash.ts";
import { changeRole } from "../../src/support/roles.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { extractCode } from "../support/smtp.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

const NEW = "reset by myself ok";

/**
 * Step 2 of the self-service reset uses the code up, then hashes the new password with argon2id (tens
 * of milliseconds, more under load) before it stores it. Whatever support commits in that time must
 * hold, as it would for a reset that came a moment later (whose code support's change voided): a
 * leaver disabled then keeps the password they had, a temporary password support set then is the
 * one that works, and an OTP email reset then is not undone by a password set with a code mailed to
 * the removed address. Each test commits its change, on a second connection (another instance, or
 * the command line), at the moment the reset has used its code up.
 */
describe.each(DIALECTS)("an account changed while its reset's new password is hashed on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "reset_changed");

  const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } };
  const ctx = { ip: "198.51.100.19", userAgent: "reset-changed-test" };
  const form = { code: "", newPassword: NEW, confirmNewPassword: NEW };

  /** Step 1 for a fresh user: the state, the code mailed, and that code's row. */
  async function started(input: Parameters<typeof addUser>[1] = {}) {
    const user = await addUser(competing.t.deps[0]!, input);
    const state = await startPasswordReset(competing.t.deps[0]!, user.login_id, ctx);
    const row = await competing.t.deps[0]!.db
      .selectFrom("codes")
      .innerJoin("outbox", "outbox.id", "codes.outbox_id")
      .select(["codes.id", "outbox.text_body"])
      .where("codes.flow_id", "=", state.flowId)
      .executeTakeFirstOrThrow();
    return { user, state, code: extractCode(row.text_body!), codeId: row.id };
  }

  /** The reset's deps, whose use of the code `codeId` waits for `change` to commit on the other connection. */
  function resetWith(change: () => Promise<unknown>, codeId: string) {
    // The consuming update's RETURNING id: the code is used up, the new password not yet hashed.
    const consumed = (rows: UnknownRow[]) => rows.length === 1 && Object.keys(rows[0]!).join() === "id" && rows[0]!.id === codeId;
    return competing.during(consumed, change);
  }

  async function reset(change: (userId: string, loginId: string) => Promise<unknown>, input: Parameters<typeof addUser>[1] = {}) {
    const { user, state, code, codeId } = await started(input);
    const { deps, changed } = resetWith(() => change(user.id, user.login_id), codeId);
    const outcome = await completePasswordReset(deps, state as ResetState, { ...form, code }, ctx);
    expect(changed()).toBe(true);
    const now = (await findUserById(competing.t.deps[0]!.db, user.id))!;
    return { user, outcome, passwordIs: async (password: string) => (await verifyPassword(now.password_hash, password)).ok };
  }

  const resetAudit = (loginId: string) => queryAudit(competing.t.deps[0]!.db, { subject: loginId, event: "password.reset" });
  const resetMails = (userId: string) => competing.t.deps[0]!.db.selectFrom("outbox").select("recipient").where("user_id", "=", userId).where("kind", "=", "notice.password-reset").execute();

  it("a leaver disabled while the new password is hashed keeps the password they had: refused, nothing written", async () => {
    const { user, outcome, passwordIs } = await reset((id) => disableUser(competing.t.deps[1]!, operator, id));
    expect(outcome).toEqual({ kind: "code-refused" });
    expect(await passwordIs(user.password)).toBe(true);
    expect(await passwordIs(NEW)).toBe(false);
    expect(await resetAudit(user.login_id)).toEqual([]);
    expect(await resetMails(user.id)).toEqual([]);
  });

  it("a temporary password support set while the new password is hashed is the one that works", async () => {
    const temporary = "a brand new temporary passphrase";
    const { user, outcome, passwordIs } = await reset((id) => setTemporaryPassword(competing.t.deps[1]!, operator, id, temporary));
    expect(outcome).toEqual({ kind: "code-refused" });
    expect(await passwordIs(temporary)).toBe(true);
    expect((await findUserById(competing.t.deps[0]!.db, user.id))!.password_temporary_until).not.toBeNull();
    expect(await resetAudit(user.login_id)).toEqual([]);
  });

  it("an OTP email reset while the new password is hashed: no password set with the removed address's code, and nothing mailed to it", async () => {
    const request = (loginId: string) => ({ name: "Jane Smith", loginId, partnerNumber: "01234", ticket: "INC-9" });
    const { user, outcome, passwordIs } = await reset((id, loginId) => resetOtpEmail(competing.t.deps[1]!, operator, id, request(loginId)), { fullName: "Jane Smith", partnerNumber: "01234" });
    expect(outcome).toEqual({ kind: "code-refused" });
    expect(await passwordIs(user.password)).toBe(true);
    expect(await resetMails(user.id)).toEqual([]);
  });

  it("a change that gives no other access (a new role) does not stop the reset", async () => {
    const { user, outcome, passwordIs } = await reset(async (id) => changeRole(competing.t.deps[1]!, operator, (await findUserById(competing.t.deps[1]!.db, id))!, "support"));
    expect(outcome).toEqual({ kind: "reset" });
    expect(await passwordIs(NEW)).toBe(true);
    expect(await resetMails(user.id)).toHaveLength(1);
  });

  it("step 1: an OTP email reset just as the code is asked for: no code goes to the removed address", async () => {
    const user = await addUser(competing.t.deps[0]!, { fullName: "Jane Smith", partnerNumber: "01234" });
    const request = { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-10" };
    // The step's read of the account: the reset commits before the code is made.
    const read = (rows: UnknownRow[]) => rows.some((row) => row.login_key === user.login_key && "password_hash" in row);
    const { deps, changed } = competing.during(read, () => resetOtpEmail(competing.t.deps[1]!, operator, user.id, request));
    const state = await startPasswordReset(deps, user.login_id, ctx);
    expect(changed()).toBe(true);
    expect(state.loginKey).toBe(user.login_key);
    const codes = await competing.t.deps[0]!.db.selectFrom("codes").select("email").where("user_id", "=", user.id).execute();
    expect(codes).toEqual([]);
    expect(await competing.t.deps[0]!.db.selectFrom("outbox").select("kind").where("user_id", "=", user.id).where("kind", "like", "code.%").execute()).toEqual([]);
  });
});
