import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unlockAccount } from "../../src/support/unlock.ts";
import { addUser, type TestApp } from "../support/app.ts";
import type { FormClient } from "../support/client.ts";
import { consoleWithStaff } from "../support/console-staff.ts";
import { saidOn as said } from "../web/done-claims.ts";

const UNLOCKED = "The login ID was unlocked";

// Review finding: ownRecentEvents matched the actor column as written, so a support account named
// "operator:root" (made before such login IDs were refused) was credited with the command line's
// `famos user unlock` by operator root. The command line's events record ip "cli"; a reader's never do.
describe("a support login ID shaped like the operator actor", () => {
  let t: TestApp;
  let support: FormClient;
  beforeAll(async () => {
    ({ t, support } = await consoleWithStaff("sqlite", { support: "operator:root", admin: "adm.op" }));
  });
  afterAll(async () => t?.close());

  it("an operator's unlock on the command line is not the reader's own action", async () => {
    const user = await addUser(t.deps, { loginId: "op.target" });
    const out = await unlockAccount(t.deps, { user: null, audit: { actor: "operator:root", ip: "cli", userAgent: "famos-cli" } } as never, user);
    expect(out.kind).toBe("unlocked");
    expect(await said(support, `/support/users/${user.id}?done=unlocked`)).toBeNull();
  });

  it("the reader's own unlock on the console still says its words", async () => {
    const user = await addUser(t.deps, { loginId: "op.target2" });
    await support.get(`/support/users/${user.id}`);
    const unlocked = (await support.post(`/support/users/${user.id}/unlock`)).headers.location as string;
    expect(await said(support, unlocked)).toContain(UNLOCKED);
  });
});
