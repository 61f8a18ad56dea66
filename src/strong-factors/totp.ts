import { generateURI, ScureBase32Plugin, verify } from "otplib";
import type { Random } from "../platform/random.ts";

/** RFC 6238 as authenticator apps implement it: HMAC-SHA1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;

const base32 = new ScureBase32Plugin();

/** A new secret: 160 bits (RFC 4226 §4 R6 recommends 160), base32 as apps take it. */
export function newTotpSecret(random: Random): string {
  return base32.encode(new Uint8Array(random.bytes(20)));
}

/** The otpauth:// URI a QR code carries (Key Uri Format): issuer FAMOS, the login ID as the label. */
export function totpUri(secret: string, loginId: string): string {
  return generateURI({ issuer: "FAMOS", label: loginId, secret, digits: TOTP_DIGITS, period: TOTP_PERIOD_S });
}

/** The RFC 6238 time step of a moment. */
export function timeStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_S);
}

/** A typed code with spaces and dashes taken out, or null when it cannot be a 6-digit code. */
export function normaliseTotp(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, "");
  return /^\d{6}$/.test(code) ? code : null;
}

export type TotpVerdict = { kind: "ok"; step: number } | { kind: "used" } | { kind: "wrong" };

/**
 * Checks a code against the steps next to now: one step either side is accepted for clock drift
 * (RFC 6238 §5.2 recommends at most one step back; phones run ahead as often as behind), two are
 * not. A code of a step at or below `lastStep` was accepted before, or is older than one that was:
 * "used" (RFC 6238 §5.2: the verifier must not accept the second attempt of the same OTP).
 */
export async function verifyTotp(secret: string, code: string, nowMs: number, lastStep: number | null): Promise<TotpVerdict> {
  const epoch = Math.floor(nowMs / 1000);
  // epochTolerance of one period around `epoch` covers exactly the steps N-1, N and N+1.
  const result = await verify({ secret, token: code, epoch, epochTolerance: TOTP_PERIOD_S, period: TOTP_PERIOD_S, digits: TOTP_DIGITS });
  if (!result.valid) return { kind: "wrong" };
  const step = timeStep(nowMs) + result.delta;
  if (lastStep !== null && step <= lastStep) return { kind: "used" };
  return { kind: "ok", step };
}
