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
 * start "only with the second factor". "Later" on User profile is the password alone: whoever read the
 * ticket would open the portal with it a second time and choose the account's password.
 */
describe("a temporary password reopened at the wave's start", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_TEMP_PASSWORD_TTL: "72h", FAMOS_2FA_GRACE_SIGNINS: "3" } });
  });
  afterAll(async () => t?.close());

  it("is offered no \"Later\" on User profile, and a posted one opens nothing", async () => {
    const start = t.clock.now();
    await setWaveStart(t.deps.db, "tp-reopen", start + 20 * 60_000, start, "test");
    const user = await addUser(t.deps, { loginId: "tp.reopen", email: null, partnerNumber: "tp-reopen" });
    await setTemporaryPassword(t.deps, operator, user.id, TEMPORARY);
    expect((await submitPassword(new FormClient(t.app), "tp.reopen", TEMPORARY)).headers.location).toBe("/choose-password");
    t.clock.set(start + 21 * 60_000);
    try {
      const reader = new FormClient(t.app, "10.9.0.9");
      expect((await submitPassword(reader, "tp.reopen", TEMPORARY)).headers.location).toBe("/enrol");
      const page = await reader.get("/enrol");
      expect(page.body).not.toContain("/enrol/later");
      const later = await reader.post("/enrol/later", {});
      expect(later.statusCode).toBe(409);
      expect((await reader.get("/choose-password")).headers.location).toBe("/enrol");
      expect((await findUserById(t.deps.db, user.id))!.password_temporary_until).toBeLessThan(0);
    } finally {
      t.clock.set(start);
    }
  });
});
