import { createHmac, hkdfSync } from "node:crypto";

/** Separate keys per purpose, derived from FAMOS_SECRET (RFC 5869 HKDF), so one use can't forge another. */
export interface Keys {
  code: Buffer;
  cookie: Buffer;
  /** Signs device cookies (bound to a login ID). */
  device: Buffer;
  /** Encrypts authenticator-app secrets at rest (AES-256-GCM; issue 13). */
  totpSecret: Buffer;
  /** Keys the hashes of recovery codes (HMAC-SHA256; issue 13). */
  recoveryCode: Buffer;
  /** Keys the per-user tag on the protected application's cookie names (src/web/upstream-headers.ts). */
  appCookie: Buffer;
  /**
   * Keys the digest a login ID is counted and, when no account has it, audited under
   * (src/users/login-digest.ts): text typed into Login ID is now and then the password.
   */
  loginId: Buffer;
  /** Keys the stamp a console form carries of the account as it was shown (account/temporary-password.ts). */
  formStamp: Buffer;
  /**
   * FAMOS_SECRET_PREVIOUS's keys, for reading only what was made under the secret before a change and
   * cannot be made again without its holder: an app's sealed secret (opened, then sealed again under
   * totpSecret) and a recovery code's hash (matched, then kept under recoveryCode). Nothing new is
   * ever made under them, and no other key is kept: codes, forms, device cookies and the protected
   * application's cookie tags under the old secret stay void (SECURITY.md, "Changing FAMOS_SECRET").
   */
  previous?: PreviousKeys;
}

/** The keys FAMOS_SECRET_PREVIOUS gives (Keys.previous). */
export type PreviousKeys = Pick<Keys, "totpSecret" | "recoveryCode">;

export function deriveKeys(secret: Buffer, previous: Buffer | null = null): Keys {
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", secret, "famos-2fa", info, 32));
  return {
    code: derive("otp-code"),
    cookie: derive("cookie-signing"),
    device: derive("device-cookie"),
    totpSecret: derive("totp-secret"),
    recoveryCode: derive("recovery-code"),
    appCookie: derive("application-cookie"),
    loginId: derive("login-id"),
    formStamp: derive("form-stamp"),
    ...(previous === null ? {} : { previous: readingKeys(previous) }),
  };
}

function readingKeys(secret: Buffer): PreviousKeys {
  const { totpSecret, recoveryCode } = deriveKeys(secret);
  return { totpSecret, recoveryCode };
}

export function hmacHex(key: Buffer, message: string): string {
  return createHmac("sha256", key).update(message).digest("hex");
}
