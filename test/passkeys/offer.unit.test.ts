import { describe, expect, it } from "vitest";
import type { Flow } from "../../src/otp/flows.ts";
import { passkeyOffered } from "../../src/passkeys/sign-in.ts";

/** OTP capture offers "Use a passkey instead" only for an open sign-in flow (the page counts the user's passkeys). */
describe("passkeyOffered", () => {
  const flow = (change: Partial<Flow>): Flow => ({ id: "f", user_id: "u", kind: "signin", email: "a@b.example", created_at: 1, codes_sent: 1, last_code_at: 1, finished_at: null, return_to: null, ...change });

  it("offers a passkey for an open sign-in, not for an enrolment, an email change, a finished flow or none", () => {
    expect(passkeyOffered(flow({}))).toBe(true);
    expect(passkeyOffered(flow({ kind: "enrol" }))).toBe(false);
    expect(passkeyOffered(flow({ kind: "email-change" }))).toBe(false);
    expect(passkeyOffered(flow({ finished_at: 2 }))).toBe(false);
    expect(passkeyOffered(undefined)).toBe(false);
  });
});
