import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { loadSignedIn } from "../../src/session/sessions.ts";
import { confirmCode } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode } from "../support/client.ts";
import { liveCodeMails } from "../support/mailbox.ts";
import { extractCode } from "../support/smtp.ts";

/**
 * code.reused needs the used code: once a flow's code was used, another code typed in it (a wrong one, a
 * malformed one) is refused counting nothing — no code is live, so there is nothing to guess — and writes
 * no line. Before, any well-formed code (and the reset's malformed ones) on a flow its code finished was
 * audited as code.reused: a kept reset cookie replayed with "000000" gave a line each time, from any address.
 */
describe("a code other than the used one, on a flow its code finished", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_PASSWORD_RESET: "self", FAMOS_RATE_LIMIT: "3" } });
  });
  afterAll(async () => t?.close());

  const trail = async (loginId: string, loginKey: string) => {
    const info = await accountLockInfo(t.deps, loginKey, t.deps.clock.now());
    return {
      reused: (await queryAudit(t.deps.db, { subject: loginId, event: "code.reused" })).length,
      failed: (await queryAudit(t.deps.db, { subject: loginId, event: "code.failed" })).length,
      counted: info.codeFailures + info.passwordFailures + info.reset.failures + info.devices.reduce((sum, d) => sum + d.failures, 0),
    };
  };

  it("reset: the kept state replayed from many addresses with a wrong or malformed code — refused, no line, nothing counted; the used code itself is still one code.reused", async () => {
    const user = await addUser(t.deps, { email: "wrong.reused@dealer.example" });
    const client = new FormClient(t.app, "198.51.100.10");
    const before = t.smtp.messages.length;
    await client.get("/forgot-password");
    await client.post("/forgot-password", { loginId: user.login_id });
    await t.app.afterReply.settled();
    const code = await nextCode(t.smtp, "wrong.reused@dealer.example", before);
    await client.get("/forgot-password/code");
    const state = client.cookies.get("famos_reset")!;
    const pw = { newPassword: "reset then replayed", confirmNewPassword: "reset then replayed" };
    expect((await client.post("/forgot-password/code", { code, ...pw })).headers.location).toBe("/login?reset=1");
    const wrong = code === "000000" ? "111111" : "000000";
    const replay = async (i: number, typed: string) => {
      const c = new FormClient(t.app, `203.0.113.${i + 1}`);
      await c.get("/forgot-password");
      c.cookies.set("famos_reset", state);
      return (await c.post("/forgot-password/code", { code: typed, ...pw })).statusCode;
    };
    for (let i = 0; i < 6; i++) expect(await replay(i, i % 2 ? wrong : "zz")).not.toBe(303);
    expect(await trail(user.login_id, user.login_key)).toEqual({ reused: 0, failed: 0, counted: 0 });
    await replay(7, code);
    expect(await trail(user.login_id, user.login_key)).toEqual({ reused: 1, failed: 0, counted: 0 });
  });

  it("sign-in: a request that loaded the session before the code was confirmed, with another code — refused as used, no line, nothing counted", async () => {
    const ctx = { ip: "192.0.2.72", userAgent: "reuse-other", deviceTokens: [] };
    const user = await addUser(t.deps);
    const step = await passwordStep(t.deps, { loginId: user.login_id, password: user.password, returnTo: null }, ctx);
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    const [mail] = await liveCodeMails(t.deps.db, user.id);
    const code = extractCode(mail!.text_body);
    const loaded = [0, 1, 2].map(() => loadSignedIn(t.deps.db, step.token, t.deps.clock.now(), t.deps.config.session, true));
    const [first, late, again] = await Promise.all(loaded);
    expect((await confirmCode(t.deps, first!.user, first!.session, code, ctx, first!.flow)).kind).toBe("signed-in");
    const other = code === "000000" ? "111111" : "000000";
    expect((await confirmCode(t.deps, late!.user, late!.session, other, ctx, late!.flow)).kind).toBe("used");
    expect(await trail(user.login_id, user.login_key)).toEqual({ reused: 0, failed: 0, counted: 0 });
    expect((await confirmCode(t.deps, again!.user, again!.session, code, ctx, again!.flow)).kind).toBe("used");
    expect(await trail(user.login_id, user.login_key)).toEqual({ reused: 1, failed: 0, counted: 0 });
  });
});
