import { isCommonPassword } from "./common-passwords.ts";

// NIST SP 800-63B 5.1.1.2: any printing characters and spaces, no composition rules, no periodic
// change; refuse values from lists of common passwords and context-specific words. SPEC
// "Passwords" sets the length: 12 characters at least, and at least 128 allowed (we allow 256).
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

export type PasswordRefusal = "too-short" | "too-long" | "nul" | "common" | "contains-login-id";

export type NewPasswordCheck = { ok: true } | { ok: false; reason: PasswordRefusal; message: string };

const MESSAGES: Record<PasswordRefusal, string> = {
  "too-short": `Choose a password of at least ${PASSWORD_MIN_LENGTH} characters.`,
  "too-long": `Choose a password of at most ${PASSWORD_MAX_LENGTH} characters.`,
  nul: "A password cannot contain a NUL character.",
  common: "That password is among the most commonly used passwords; choose another.",
  "contains-login-id": "Choose a password that is not your login ID or your name.",
};

/** Checks a password chosen in FAMOS (`user add`, Profile); imported hashes are not checked. */
export function checkNewPassword(
  password: string,
  context: { loginId?: string; name?: string } = {},
): NewPasswordCheck {
  const normalised = password.normalize("NFC");
  // NIST SP 800-63B 5.1.1.2 counts each Unicode code point as one character, after normalisation.
  const length = [...normalised].length;
  if (length < PASSWORD_MIN_LENGTH) return refuse("too-short");
  if (length > PASSWORD_MAX_LENGTH) return refuse("too-long");
  // Every form refuses a NUL before any handler runs (web/input-guard.ts): a password holding one,
  // set from the command line's standard input, could never be typed at sign-in.
  if (normalised.includes("\u0000")) return refuse("nul");

  const folded = normalised.toLowerCase();
  const personal = [context.loginId, context.name].filter((word) => word !== undefined);
  if (personal.some((word) => word.trim() !== "" && fold(word) === folded)) {
    return refuse("contains-login-id");
  }
  if (isCommonPassword(folded)) return refuse("common");
  return { ok: true };
}

function fold(word: string): string {
  return word.normalize("NFC").toLowerCase();
}

function refuse(reason: PasswordRefusal): NewPasswordCheck {
  return { ok: false, reason, message: MESSAGES[reason] };
}
