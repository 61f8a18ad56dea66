import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, type TestApp } from "../support/app.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import type { FormClient } from "../support/client.ts";

const NOTICE = 'class="message info"';

/**
 * The support user page's words for what was just done (`?done=`) come from checkedDoneNotice (src/web/reader.ts),
 * the one lookup of `?done=`: only a key of the page's own table names words, and the words of a key whose
 * claim the records can check (enabled, disabled, kept, already one or the other) are said only while true.
 * A link written by anyone, with any other value, or the value twice, shows nothing and reflects nothing.
 */
describe.each(["sqlite", "postgres"] as const)("the support user page's ?done= notice, over HTTP (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  beforeAll(async () => {
    ({ t, support } = await consoleWithStaff(database, { support: "sup.done", admin: "adm.done" }));
  });
  afterAll(async () => t?.close());

  const page = async (id: string, query: string) => (await support.get(`/support/users/${id}${query}`)).body;

  it("a crafted ?done= shows nothing: no key of the page's table, an inherited name, markup, the key twice", async () => {
    const user = await addUser(t.deps, { loginId: "done.crafted" });
    expect(await page(user.id, "")).not.toContain(NOTICE);
    for (const query of ["?done=", "?done=nothing", "?done=toString", "?done=__proto__", "?done=constructor", "?done=hasOwnProperty", "?done=%3Cb%3Ereset%3C/b%3E", "?done=reset&done=role", "?done[]=reset", "?done=RESET", "?done=reset%00"]) {
      const body = await page(user.id, query);
      expect(body, query).not.toContain(NOTICE);
      expect(body, query).not.toContain("<b>reset</b>");
    }
    // A key of the table says its words.
    expect(await page(user.id, "?done=role-unchanged")).toContain(NOTICE);
  });

  it("a claim the records can check is said only while true: enabled, already enabled for an enabled account; disabled, already disabled for a disabled one", async () => {
    const user = await addUser(t.deps, { loginId: "done.checked", email: "done.checked@dealer.example" });
    expect(await page(user.id, "?done=enabled")).toContain("The account was enabled");
    expect(await page(user.id, "?done=already-enabled")).toContain("The account was already enabled");
    expect(await page(user.id, "?done=already-disabled")).not.toContain(NOTICE);
    expect(await page(user.id, "?done=disabled")).not.toContain(NOTICE);
    await support.get(`/support/users/${user.id}`);
    expect((await support.post(`/support/users/${user.id}/disable`)).headers.location).toBe(`/support/users/${user.id}?done=disabled`);
    expect(await page(user.id, "?done=disabled")).toContain("The account was disabled");
    expect(await page(user.id, "?done=already-disabled")).toContain("The account was already disabled");
    expect(await page(user.id, "?done=enabled")).not.toContain(NOTICE);
    expect(await page(user.id, "?done=already-enabled")).not.toContain(NOTICE);
  });
});
