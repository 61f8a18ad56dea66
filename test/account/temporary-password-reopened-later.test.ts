import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const TEMPORARY = "tmp-pass-word-4711";

/**
 * SECURITY.md 18: a temporary password spent by a sign-in before the wave signs in once more from the
 * start "only with the second factor", and only to meet one already on file. Whoever read the ticket
 * gains nothing: with no factor on file the password stays spent (no User profile, where they would
 * type an address of their own, and no "Later", the password alone a second time).
 */
describe("a temporary password spent before the wave, at the wave's start, with no second factor on file", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_TEMP_PASSWORD_TTL: "72h", FAMOS_2FA_GRACE_SIGNINS: "3" } });
  });
  afterAll(async () => t?.close());

  it("signs in to nothing: no User profile, no \"Later\", no address of the reader's own", async () => {
    const start = t.clock.now();
    await setWaveStart(t.deps.db, "tp-reopen", start + 20 * 60_000, start, "test");
    const user = await addUser(t.deps, { loginId: "tp.reopen", email: null, partnerNumber: "tp-reopen" });
    await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY);
    expect((await submitPassword(new FormClient(t.app), "tp.reopen", TEMPORARY)).headers.location).toBe("/choose-password");
    t.clock.set(start + 21 * 60_000);
    try {
      const reader = new FormClient(t.app, "10.9.0.9");
      expect((await submitPassword(reader, "tp.reopen", TEMPORARY)).statusCode).toBe(401);
      expect((await reader.get("/enrol")).headers.location ?? "").toMatch(/^\/login/);
      expect((await reader.post("/enrol", { email: "reader@elsewhere.example", confirmEmail: "reader@elsewhere.example" })).headers.location ?? "").toMatch(/^\/login/);
      expect((await reader.post("/enrol/later", {})).headers.location ?? "").toMatch(/^\/login/);
      const after = (await findUserById(t.deps.db, user.id))!;
      expect([after.otp_email, after.pending_email]).toEqual([null, null]);
      expect(after.password_temporary_until).toBeLessThan(0);
    } finally {
      t.clock.set(start);
    }
  });
});
