import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { argon2Computations } from "../../src/password/hash.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, submitPassword } from "../support/client.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import { formStampOf, openTemporaryPasswordForm } from "../support/temporary-password-form.ts";

const SECRET = /<strong class="secret">([^<]+)<\/strong>/;
const SET_SINCE = /A temporary password was set for (\S+) at [^<]+, after this form was shown \(a second click, or another tab\)\. The one shown then is the one that works; nothing more was set\./;

/**
 * A double click on "Confirm temporary password", or the form in two tabs: both answers showed a
 * password, and only the last one set worked, so support could read out a dead one on the phone.
 * Now the form carries a stamp of the account as shown; the second submission sets nothing and says so.
 */
describe.each(["sqlite", "postgres"] as const)("console: one temporary-password form sets one password (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  let base: string;
  beforeAll(async () => {
    ({ t, support } = await consoleWithStaff(database, { support: `sup.twice.${database}`, admin: `adm.twice.${database}` }));
    base = await listen(t);
  });
  afterAll(async () => t?.close());

  /** The support person's browser over real HTTP: another connection with the same cookies and CSRF token, as a second tab is. */
  function tab(): FormClient {
    const client = new FormClient(overHttp(base));
    for (const [name, value] of support.cookies) client.cookies.set(name, value);
    client.csrf = support.csrf;
    return client;
  }

  async function target(loginId: string) {
    const user = await addUser(t.deps, { loginId, email: `${loginId}@dealer.example` });
    const identity = { name: user.full_name, loginId: user.login_id, partnerNumber: user.partner_number, ticket: "RITM-2X" };
    const events = async () => (await queryAudit(t.deps.db, { subject: loginId, event: "password.temporary-set" })).length;
    return { user, identity, events };
  }

  it("a double click on the confirmation: one password set and shown, the other submission refused with when it was set; a fresh form sets another", async () => {
    const { user, identity, events } = await target(`twice.click.${database}`);
    const formStamp = await openTemporaryPasswordForm(support, user.id);
    const confirm = await support.post(`/support/users/${user.id}/temporary-password`, { ...identity, formStamp });
    expect(confirm.statusCode).toBe(200);
    const fields = { ...identity, formStamp: formStampOf(confirm) };

    const [a, b] = [tab(), tab()];
    const answers = await Promise.all([a, b].map((client) => client.post(`/support/users/${user.id}/temporary-password/confirm`, fields)));
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
    const shown = answers.find((answer) => answer.statusCode === 200)!;
    const refused = answers.find((answer) => answer.statusCode === 409)!;
    expect(refused.body).not.toMatch(SECRET);
    expect(refused.body).toMatch(SET_SINCE);
    expect(refused.body).toContain(`href="/support/users/${user.id}/temporary-password"`);
    const password = SECRET.exec(shown.body)![1]!;
    expect(await events()).toBe(1);
    // The one shown works.
    expect((await submitPassword(new FormClient(t.app), user.login_id, password)).headers.location).toBe("/otp");

    // A fresh form, loaded after it, sets another; the one shown before then stops working.
    const again = await openTemporaryPasswordForm(support, user.id);
    expect(again).not.toBe(formStamp);
    await support.post(`/support/users/${user.id}/temporary-password`, { ...identity, formStamp: again });
    const next = await support.post(`/support/users/${user.id}/temporary-password/confirm`, { ...identity, formStamp: again });
    expect(next.statusCode).toBe(200);
    expect(await events()).toBe(2);
    expect((await submitPassword(new FormClient(t.app), user.login_id, SECRET.exec(next.body)![1]!)).headers.location).toBe("/otp");
  });

  it("the form in two tabs, both confirmed at once: one password; the stale form is refused at its first step too, in the reader's language", async () => {
    const { user, identity, events } = await target(`twice.tabs.${database}`);
    const [one, two] = [tab(), tab()];
    const stamps = [formStampOf(await one.get(`/support/users/${user.id}/temporary-password`)), formStampOf(await two.get(`/support/users/${user.id}/temporary-password`))];
    const confirms = await Promise.all([one, two].map((client, i) => client.post(`/support/users/${user.id}/temporary-password`, { ...identity, formStamp: stamps[i]! })));
    expect(confirms.map((answer) => answer.statusCode)).toEqual([200, 200]);
    const answers = await Promise.all([one, two].map((client, i) => client.post(`/support/users/${user.id}/temporary-password/confirm`, { ...identity, formStamp: formStampOf(confirms[i]!) })));
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
    expect(answers.filter((answer) => SECRET.test(answer.body))).toHaveLength(1);
    expect(await events()).toBe(1);
    const setAt = (await findUserById(t.deps.db, user.id))!;

    // The first step of a form shown before is refused too, and says so in German to a German reader.
    const german = await one.post(`/support/users/${user.id}/temporary-password`, { ...identity, formStamp: stamps[0]! }, { headers: { "accept-language": "de" } });
    expect(german.statusCode).toBe(409);
    expect(german.body).toContain(`Für ${user.login_id} wurde um`);
    expect(german.body).toContain("Das damals angezeigte ist das gültige");
    expect((await findUserById(t.deps.db, user.id))!.password_hash).toBe(setAt.password_hash);
  });

  it("a stale confirmation is refused before its password is hashed: no argon2id computation, where a fresh one costs one", async () => {
    const { user, identity, events } = await target(`twice.cheap.${database}`);
    const confirmStep = async () => {
      const shown = await support.post(`/support/users/${user.id}/temporary-password`, { ...identity, formStamp: await openTemporaryPasswordForm(support, user.id) });
      expect(shown.statusCode).toBe(200);
      return { ...identity, formStamp: formStampOf(shown) };
    };
    const stale = await confirmStep();
    const fresh = await confirmStep();
    const hashes = argon2Computations();
    expect((await support.post(`/support/users/${user.id}/temporary-password/confirm`, fresh)).statusCode).toBe(200);
    expect(argon2Computations() - hashes).toBe(1);

    const before = argon2Computations();
    const refused = await support.post(`/support/users/${user.id}/temporary-password/confirm`, stale);
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toMatch(SET_SINCE);
    expect(argon2Computations() - before).toBe(0);
    expect(await events()).toBe(1);
  });

  it("a form shown before a temporary password that has run out (its end is now) says the password changed, not that the one set works", async () => {
    const { user, identity, events } = await target(`twice.expired.${database}`);
    const formStamp = await openTemporaryPasswordForm(support, user.id);
    const confirm = await support.post(`/support/users/${user.id}/temporary-password`, { ...identity, formStamp });
    const fields = { ...identity, formStamp: formStampOf(confirm) };
    expect((await support.post(`/support/users/${user.id}/temporary-password/confirm`, fields)).statusCode).toBe(200);
    // The temporary password's end reached (signInBarred: expired at `until <= now`), not used.
    await t.deps.db.updateTable("users").set({ password_temporary_until: t.deps.clock.now() }).where("id", "=", user.id).execute();
    const stale = await support.post(`/support/users/${user.id}/temporary-password/confirm`, fields);
    expect(stale.statusCode).toBe(409);
    expect(stale.body).not.toMatch(SET_SINCE);
    expect(stale.body).toContain(`The password of ${user.login_id} has changed since this form was shown, so nothing was set.`);
    expect(await events()).toBe(1);
  });

  it("a stamp for another account, or none, sets nothing", async () => {
    const { user, identity, events } = await target(`twice.other.${database}`);
    const other = await addUser(t.deps, { loginId: `twice.elsewhere.${database}` });
    const foreign = await openTemporaryPasswordForm(support, other.id);
    for (const fields of [{ ...identity, formStamp: foreign }, identity]) {
      const answer = await support.post(`/support/users/${user.id}/temporary-password/confirm`, fields);
      expect(answer.statusCode).toBe(409);
      expect(answer.body).toContain(`The password of ${user.login_id} has changed since this form was shown, so nothing was set.`);
    }
    expect(await events()).toBe(0);
    expect((await findUserById(t.deps.db, user.id))!.password_hash).toBe(user.password_hash);
  });
});
