import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type KyselyPlugin, type PluginTransformResultArgs, type QueryResult, type UnknownRow } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { disableUser } from "../../src/account/disable.ts";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { hashPassword } from "../../src/password/hash.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import type { Database } from "../../src/store/schema.ts";
import { setPasswordHash } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";

/**
 * The password check reads the account, then spends an argon2id verification on it (tens of
 * milliseconds, more under load) before the sign-in is settled. Whatever support or the account's own
 * other sessions commit in that time must hold: a leaver disabled then, or a password replaced then,
 * must not sign in with what was true before; an OTP email reset then must not get a code to the
 * address support just removed. Each test commits its change, on a second connection (another
 * instance, or the command line), at the moment the check has read the account.
 */
describe.each(DIALECTS)("an account changed while its password is checked on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 2, `changed_${dialect}`);
  });
  const opened: Kysely<Database>[] = [];
  afterAll(async () => {
    for (const db of opened) await db.destroy();
    await t?.close();
  });

  const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } };
  const ctx = { ip: "198.51.100.9", userAgent: "account-changed-test" };

  /** The sign-in's deps, whose first read of `loginKey`'s account waits for `change` on the other connection. */
  function signInWith(change: () => Promise<unknown>, loginKey: string): { deps: Deps; changed: () => boolean } {
    let fired = false;
    const plugin: KyselyPlugin = {
      transformQuery: (args) => args.node,
      async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
        if (!fired && args.result.rows.some((row) => row.login_key === loginKey && "password_hash" in row)) {
          fired = true;
          await change();
        }
        return args.result;
      },
    };
    const a = t.deps[0]!;
    if (dialect === "postgres") return { deps: { ...a, db: a.db.withPlugin(plugin) }, changed: () => fired };
    // On SQLite the server's connection runs a sign-in's fixed queries on better-sqlite3 directly,
    // past Kysely's plugins: the sign-in gets a connection of its own to the file, through Kysely.
    const database = new SQLite(t.database.url.slice("sqlite:".length));
    database.pragma("busy_timeout = 5000");
    database.pragma("foreign_keys = ON");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }), plugins: [plugin] });
    opened.push(db);
    return { deps: { ...a, db }, changed: () => fired };
  }

  async function liveSessions(userId: string) {
    return t.deps[0]!.db.selectFrom("sessions").select("stage").where("user_id", "=", userId).where("ended_at", "is", null).execute();
  }

  it("a leaver disabled during the check is refused, and no session is made", async () => {
    const user = await addUser(t.deps[0]!);
    const { deps, changed } = signInWith(() => disableUser(t.deps[1]!, operator, user.id), user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("refused");
    expect(await liveSessions(user.id)).toEqual([]);
  });

  it("a password replaced by support during the check: the old one is refused", async () => {
    const user = await addUser(t.deps[0]!);
    const { deps, changed } = signInWith(() => setTemporaryPassword(t.deps[1]!, operator, user.id, "a brand new temporary passphrase"), user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("refused");
    expect(await liveSessions(user.id)).toEqual([]);
  });

  it("an OTP email reset during the check: no code goes to the removed address, and User profile comes next", async () => {
    const user = await addUser(t.deps[0]!, { fullName: "Jane Smith", partnerNumber: "01234" });
    const reset = () => resetOtpEmail(t.deps[1]!, operator, user.id, { name: "Jane Smith", loginId: user.login_id, partnerNumber: "01234", ticket: "INC-7" });
    const { deps, changed } = signInWith(reset, user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("enrol");
    const codeMail = await t.deps[0]!.db.selectFrom("outbox").select("kind").where("user_id", "=", user.id).where("kind", "not like", "notice.%").execute();
    expect(codeMail).toEqual([]);
    expect((await liveSessions(user.id)).map((s) => s.stage)).toEqual(["enrol"]);
  });

  it("the same password stored anew during the check (another sign-in upgraded its hash) still signs in", async () => {
    const user = await addUser(t.deps[0]!);
    const rehash = async () => setPasswordHash(t.deps[1]!.db, user.id, await hashPassword(user.password), t.clock.now());
    const { deps, changed } = signInWith(rehash, user.login_key);
    const outcome = await passwordStep(deps, { loginId: user.login_id, password: user.password }, ctx);
    expect(changed()).toBe(true);
    expect(outcome.kind).toBe("code");
  });
});
