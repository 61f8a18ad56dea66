import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { isoBase64URL, isoCBOR } from "@simplewebauthn/server/helpers";

/** Where the browser says it is, and what the authenticator reports (WebAuthn Level 3 §6.1 flags). */
export interface Ceremony {
  origin: string;
  /** The RP ID the authenticator signs over; default: the options' (the browser's check). */
  rpId?: string;
  /** The UV flag: the authenticator checked who holds it. Default true. */
  userVerified?: boolean;
  /** The signature counter to report; default: one more than last time. */
  counter?: number;
  /** Override the challenge answered (a stale or another session's). */
  challenge?: string;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

/**
 * A WebAuthn authenticator in software (ES256, attestation "none"), for tests that need to break one
 * rule at a time — user verification off, a counter that goes back, another origin or RP ID — which
 * Chromium's virtual authenticator cannot all do. Its answers are what a browser sends.
 */
export class SoftAuthenticator {
  readonly credentialId = b64(randomBytes(16));
  private readonly keys: { publicKey: KeyObject; privateKey: KeyObject } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  counter = 0;

  constructor(readonly flags: { backupEligible?: boolean; backedUp?: boolean } = {}) {}

  create(options: PublicKeyCredentialCreationOptionsJSON, at: Ceremony): RegistrationResponseJSON {
    const clientDataJSON = this.clientData("webauthn.create", at.challenge ?? options.challenge, at.origin);
    const jwk = this.keys.publicKey.export({ format: "jwk" });
    const coseKey = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, isoBase64URL.toBuffer(jwk.x!)],
      [-3, isoBase64URL.toBuffer(jwk.y!)],
    ]) as Parameters<typeof isoCBOR.encode>[0];
    const id = isoBase64URL.toBuffer(this.credentialId);
    const attested = Buffer.concat([Buffer.alloc(16), Buffer.from([id.length >> 8, id.length & 0xff]), id, isoCBOR.encode(coseKey)]);
    const authData = Buffer.concat([this.authData(at.rpId ?? options.rp.id!, at, FLAG.AT, at.counter ?? 0), attested]);
    const statement = new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", new Uint8Array(authData)]]);
    const attestationObject = isoCBOR.encode(statement as Parameters<typeof isoCBOR.encode>[0]);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: "public-key",
      clientExtensionResults: {},
      response: { clientDataJSON: b64(clientDataJSON), attestationObject: b64(attestationObject), transports: ["internal"] },
    };
  }

  get(options: PublicKeyCredentialRequestOptionsJSON, at: Ceremony): AuthenticationResponseJSON {
    this.counter = at.counter ?? this.counter + 1;
    const clientDataJSON = this.clientData("webauthn.get", at.challenge ?? options.challenge, at.origin);
    const authData = this.authData(at.rpId ?? options.rpId!, at, 0, this.counter);
    const signature = sign("sha256", Buffer.concat([authData, createHash("sha256").update(clientDataJSON).digest()]), this.keys.privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: "public-key",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64(clientDataJSON),
        authenticatorData: b64(authData),
        signature: b64(signature),
      },
    };
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  private authData(rpId: string, at: Ceremony, extra: number, counter: number): Buffer {
    let flags = FLAG.UP | extra;
    if (at.userVerified ?? true) flags |= FLAG.UV;
    if (this.flags.backupEligible) flags |= FLAG.BE;
    if (this.flags.backedUp) flags |= FLAG.BS;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([createHash("sha256").update(rpId).digest(), Buffer.from([flags]), count]);
  }
}
