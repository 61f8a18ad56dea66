import type { FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { accountLockInfo } from "../../src/regulation/locks.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";

/**
 * OTP capture open in two tabs (two forms, one session): Cancel in one, Confirm in the other, the Confirm's
 * request having loaded the session before the Cancel was answered. The Cancel ended the half-signed-in
 * session and voided its code: the flow is void, so the Confirm guesses nothing whatever it holds — it counts
 * nothing, writes no code.failed, and the browser goes where a form of an ended session goes (answerSignedOut:
 * to sign in). Before, it found the code void and counted it as a guess, with a code.failed line (result
 * "void"), and showed OTP capture of a session that no longer was. The Cancel is sent by a hook of the
 * test's own, run after the Confirm's session was read and before its handler, from the same browser.
 */
describe.each(["sqlite", "postgres"] as const)("Confirm after Cancel at OTP capture, over HTTP (%s)", (database) => {
  let t: TestApp;
  let cancelFirst: FormClient | null = null;

  beforeAll(async () => {
    t = await createTestApp({
      database,
      beforeReady: (app) =>
        app.addHook("preHandler", async (request: FastifyRequest) => {
          const armed = cancelFirst;
          if (armed === null || request.method !== "POST" || request.url !== "/otp") return;
          cancelFirst = null;
          expect((await armed.post("/otp/cancel", {})).headers.location).toBe("/login?cancelled=1");
        }),
    });
  });
  afterAll(async () => t?.close());

  /** What the login ID's counters hold, and its code lines in the trail. */
  const counted = async (user: { login_id: string; login_key: string }) => {
    const info = await accountLockInfo(t.deps, user.login_key, t.deps.clock.now());
    return {
      counted: info.codeFailures + info.passwordFailures + info.reset.failures + info.devices.reduce((sum, d) => sum + d.failures, 0),
      failed: (await queryAudit(t.deps.db, { subject: user.login_id, event: "code.failed" })).length,
      cancelled: (await queryAudit(t.deps.db, { subject: user.login_id, event: "code.cancelled" })).length,
      confirmed: (await queryAudit(t.deps.db, { subject: user.login_id, event: "code.confirmed" })).length,
    };
  };

  it.each([
    ["a wrong code", (code: string) => (code === "000000" ? "111111" : "000000")],
    ["the right code", (code: string) => code],
  ])("%s: nothing counted, no code.failed, to sign in", async (_name, typed) => {
    const user = await addUser(t.deps);
    const { client, code } = await signIn(t, { user, until: "otp" });
    expect(await counted(user)).toEqual({ counted: 0, failed: 0, cancelled: 0, confirmed: 0 });
    cancelFirst = client;
    const confirm = await client.post("/otp", { code: typed(code!) });
    expect(cancelFirst).toBeNull();
    expect(await counted(user)).toEqual({ counted: 0, failed: 0, cancelled: 1, confirmed: 0 });
    expect([confirm.statusCode, confirm.headers.location]).toEqual([303, "/login"]);
  });
});
