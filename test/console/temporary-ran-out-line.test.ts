import { describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { useCliApp } from "../cli/run-famos.ts";

/**
 * The access line (the console's user page, `famos user show`) of a temporary password that ran out
 * on its own says so, with when, instead of "valid until <a past date>". `accessText` in
 * account/access.ts, the line's one home, against the moment the page or command reads the account;
 * ran out by signInBarred's own comparison (at its end it no longer signs in).
 */
describe("the access line of a temporary password", { timeout: 120_000 }, () => {
  const f = useCliApp();
  // 2001 is past for the test's fixed clock and for the command's real one; 2096 is ahead of both.
  const PAST = Date.UTC(2001, 8, 9, 1, 46, 40);
  const AHEAD = Date.UTC(2096, 0, 1, 12, 0, 0);
  const en = translator("en-GB", "Europe/London");

  async function withTemporary(loginId: string, until: number) {
    const user = await addUser(f.t.deps, { loginId });
    await f.t.deps.db.updateTable("users").set({ password_temporary_until: until }).where("id", "=", user.id).execute();
    return user;
  }

  it("reads 'ran out at <when>' on the console and in famos user show once it ran out, 'valid until' before", async () => {
    const ranOut = await withTemporary("tmp.ranout", PAST);
    const live = await withTemporary("tmp.live", AHEAD);
    const support = new FormClient(f.t.app);
    await signInFully(support, f.t.smtp, await addUser(f.t.deps, { role: "support", loginId: "tmp.support" }));

    const page = (await support.get(`/support/users/${ranOut.id}`)).body;
    expect(page).toContain(en.text("console.access.temporaryRanOut", { until: en.dateTime(PAST) }));
    expect(page).not.toMatch(/valid until/);
    expect((await support.get(`/support/users/${live.id}`)).body).toContain(en.text("console.access.temporary", { until: en.dateTime(AHEAD) }));

    const shown = await f.cli.inProcess(["user", "show", "tmp.ranout"]);
    expect(shown.stdout).toMatch(/^Access\s+Enabled; temporary password ran out at 09\/09\/2001 02:46, no new password chosen yet$/m);
    expect((await f.cli.inProcess(["user", "show", "tmp.live"])).stdout).toMatch(/^Access\s+Enabled; temporary password valid until 01\/01\/2096 12:00$/m);
  });
});
