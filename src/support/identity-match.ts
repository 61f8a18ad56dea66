import { loginKey } from "../users/users.ts";

/**
 * SPEC item 8: the name, login ID and partner number from the user's "OTP email reset" request must
 * all match the account before support may reset it.
 */
export interface Identity {
  name: string;
  loginId: string;
  partnerNumber: string;
}

export type IdentityField = keyof Identity;

/** Case and runs of spaces ignored ("jane  SMITH" is "Jane Smith"). */
export function sameName(typed: string, stored: string): boolean {
  const fold = (s: string) => s.normalize("NFC").trim().replace(/\s+/g, " ").toLowerCase();
  return fold(typed) !== "" && fold(typed) === fold(stored);
}

/** Case and the composition of accents ignored, as at sign-in (loginKey). */
export function sameLoginId(typed: string, stored: string): boolean {
  return typed.trim() !== "" && loginKey(typed) === loginKey(stored);
}

/** Exact after trimming: leading zeros count ("01234" is not "1234"). */
export function samePartnerNumber(typed: string, stored: string): boolean {
  return typed.trim() !== "" && typed.trim() === stored.trim();
}

/** The fields that do not match, in form order; empty when all three do. */
export function mismatchedFields(typed: Identity, account: Identity): IdentityField[] {
  const wrong: IdentityField[] = [];
  if (!sameName(typed.name, account.name)) wrong.push("name");
  if (!sameLoginId(typed.loginId, account.loginId)) wrong.push("loginId");
  if (!samePartnerNumber(typed.partnerNumber, account.partnerNumber)) wrong.push("partnerNumber");
  return wrong;
}
