import { describe, expect, it } from "vitest";
import { alwaysTwoFactor } from "../../src/rollout/applies.ts";
import { addressToEnrol, strongFactorRequired } from "../../src/strong-factors/policy.ts";
import type { Role } from "../../src/users/users.ts";
import { unitConfig } from "../support/unit-app.ts";

/**
 * The accounts the password alone never opens (src/rollout/applies.ts, alwaysTwoFactor), each reason
 * on its own against an account with none, and who enrols an OTP email after proving another factor
 * (src/strong-factors/policy.ts, addressToEnrol). Pure rules over the user's row: the integration
 * tier (test/rollout/strong-factor-before-wave, test/security/lifecycle-attacks) walks them through sign-ins.
 */
const plain = { role: "user" as Role, otp_email: null as string | null, otp_email_confirmed_at: null as number | null, strong_factor_at: null as number | null };
const noStrongRoles = unitConfig({ FAMOS_STRONG_FACTOR_ROLES: "" });
const supportStrong = unitConfig({ FAMOS_STRONG_FACTOR_ROLES: "support" });
const userStrong = unitConfig({ FAMOS_STRONG_FACTOR_ROLES: "user" });

describe("alwaysTwoFactor (unit tier)", () => {
  it("is false only for a user with no role above user, no address, never one confirmed, no strong factor, no policy", () => {
    expect(alwaysTwoFactor(noStrongRoles, plain)).toBe(false);
    expect(alwaysTwoFactor(supportStrong, plain)).toBe(false);
  });

  it("is true for each reason alone", () => {
    expect(alwaysTwoFactor(noStrongRoles, { ...plain, role: "support" })).toBe(true);
    expect(alwaysTwoFactor(noStrongRoles, { ...plain, role: "admin" })).toBe(true);
    expect(alwaysTwoFactor(userStrong, plain)).toBe(true);
    expect(alwaysTwoFactor(noStrongRoles, { ...plain, otp_email: "jane@dealer.example" })).toBe(true);
    expect(alwaysTwoFactor(noStrongRoles, { ...plain, otp_email_confirmed_at: 0 })).toBe(true);
    expect(alwaysTwoFactor(noStrongRoles, { ...plain, otp_email_confirmed_at: 1_700_000_000_000 })).toBe(true);
    expect(alwaysTwoFactor(noStrongRoles, { ...plain, strong_factor_at: 0 })).toBe(true);
    expect(alwaysTwoFactor(noStrongRoles, { ...plain, strong_factor_at: 1_700_000_000_000 })).toBe(true);
  });

  it("does not count an empty address as one", () => {
    expect(alwaysTwoFactor(noStrongRoles, { ...plain, otp_email: "" })).toBe(false);
  });
});

describe("addressToEnrol (unit tier)", () => {
  it("asks a user without an OTP email to enrol one after a sign-in by another factor", () => {
    expect(addressToEnrol(noStrongRoles, plain, "signin")).toBe(true);
    expect(addressToEnrol(noStrongRoles, { ...plain, otp_email: "" }, "signin")).toBe(true);
    expect(addressToEnrol(supportStrong, plain, "signin")).toBe(true);
  });

  it("not a user who has one, not in another flow, not a role that needs a strong factor", () => {
    expect(addressToEnrol(noStrongRoles, { ...plain, otp_email: "jane@dealer.example" }, "signin")).toBe(false);
    for (const kind of ["enrol", "email-change", "reset", ""]) expect(addressToEnrol(noStrongRoles, plain, kind), kind).toBe(false);
    expect(addressToEnrol(supportStrong, { ...plain, role: "support" }, "signin")).toBe(false);
    expect(addressToEnrol(userStrong, plain, "signin")).toBe(false);
    // The policy is the role's: support without the policy enrols an address as anyone.
    expect(addressToEnrol(noStrongRoles, { ...plain, role: "support" }, "signin")).toBe(true);
  });

  it("strongFactorRequired reads the configured roles", () => {
    expect(strongFactorRequired(supportStrong, { role: "support" })).toBe(true);
    expect(strongFactorRequired(supportStrong, { role: "admin" })).toBe(false);
    expect(strongFactorRequired(noStrongRoles, { role: "support" })).toBe(false);
  });
});
