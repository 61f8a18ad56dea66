import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { endPasswordOnlyOutlived } from "../../src/rollout/password-only.ts";
import type { Session } from "../../src/session/sessions.ts";

/**
 * The session hook asks endPasswordOnlyOutlived at every request of every signed-in browser (web/auth.ts).
 * For a session with a verified code, or an account the password alone may still open, the answer is a
 * plain false, not a promise: the hook then awaits nothing, so such a request pays no promise and no
 * extra turn of the event loop for the rule (issue 17), and nothing touches the database.
 */
describe("endPasswordOnlyOutlived on the hot path", () => {
  const deps = { db: null as never, config: { strongFactorRoles: [] } as never } as Pick<Deps, "db" | "config">;
  const session = (verifiedAt: number | null) => ({ id: "s1", stage: "full", verified_at: verifiedAt }) as Session;
  const user = (role: string, otpEmail: string | null) => ({ login_id: "u", role, otp_email: otpEmail, otp_email_confirmed_at: otpEmail ? 1 : null, strong_factor_at: null }) as never;
  const origin = () => ({ ip: "10.0.0.1", userAgent: "test" });

  it("answers false at once for a session with a verified code", () => {
    expect(endPasswordOnlyOutlived(deps, { session: session(1_000), user: user("support", "a@dealer.example") }, 2_000, origin)).toBe(false);
  });

  it("answers false at once for a password-only session the password alone may still open", () => {
    expect(endPasswordOnlyOutlived(deps, { session: session(null), user: user("user", null) }, 2_000, origin)).toBe(false);
  });
});
