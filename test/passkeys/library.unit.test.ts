import { generateAuthenticationOptions, verifyAuthenticationResponse, verifyRegistrationResponse } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { SoftAuthenticator } from "../support/soft-authenticator.ts";

/**
 * The installed dependency tree can verify an ES256 assertion (nearly every passkey). With two copies
 * of @peculiar/asn1-schema (a lockfile that was not deduplicated) every one fails with "Cannot get
 * schema for 'ECDSASigValue' target" (SimpleWebAuthn issues 738 and 808): run `npm dedupe`.
 */
describe("@simplewebauthn/server as installed", () => {
  it("verifies an ES256 signature", async () => {
    const auth = new SoftAuthenticator();
    const registration = auth.create(
      { rp: { id: "localhost", name: "FAMOS" }, user: { id: "dQ", name: "u", displayName: "u" }, challenge: "Y2hhbGxlbmdl", pubKeyCredParams: [{ type: "public-key", alg: -7 }] },
      { origin: "http://localhost" },
    );
    const options = await generateAuthenticationOptions({ rpID: "localhost", challenge: new Uint8Array(32) });
    const assertion = auth.get(options, { origin: "http://localhost" });
    const added = await verifyRegistrationResponse({ response: registration, expectedChallenge: "Y2hhbGxlbmdl", expectedOrigin: "http://localhost", expectedRPID: "localhost" });
    expect(added.verified).toBe(true);
    const result = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: options.challenge,
      expectedOrigin: "http://localhost",
      expectedRPID: "localhost",
      credential: { id: auth.credentialId, publicKey: added.registrationInfo!.credential.publicKey, counter: 0 },
    }).catch((error: Error) => {
      throw new Error(`${error.message} — is @peculiar/asn1-schema installed twice? (npm ls @peculiar/asn1-schema; fix: npm dedupe)`, { cause: error });
    });
    expect(result.verified).toBe(true);
  });
});
