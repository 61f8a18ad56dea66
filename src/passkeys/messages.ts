/**
 * What the passkey flows say (issue 13), in English: domain code and routes pass these on, and pages
 * show them in the reader's language through the catalogue's "said.passkey.*" messages (issue 16).
 * The screens' own words are catalogue keys "passkey.*". SPEC's style: plain words, say what
 * happened and what to do next.
 */
export const PASSKEY_TEXT = {
  needsScript: "Your browser needs JavaScript turned on to use passkeys. Turn it on, or use the code sent by email.",
  added: "The passkey was added. Next time you sign in you can use it instead of the code sent by email.",
  removed: "The passkey was removed. It no longer signs you in.",
  notFound: "There is no such passkey of yours to remove. It may have been removed already.",
  nameMissing: "Give the passkey a name, so you can tell it apart from others.",
  nameTooLong: "The name is too long: use at most 64 characters.",
  nameHidden: "The name must not contain invisible or control characters (such as zero-width spaces, direction marks or emoji style selectors). Type it again without emoji.",
  tooMany: (max: number) => `You have ${max} passkeys, the most FAMOS keeps. Remove one you no longer use first.`,
  passwordWrong: "The password is not right. Check it and try again.",
  noCredential: "Your browser did not send a passkey. Passkeys need JavaScript turned on; or the request was cancelled. Try again.",
  registrationFailed: "The passkey could not be added: your browser's answer was not valid for FAMOS, or it took too long. Try again.",
  notVerifiedAdd: "The passkey could not be added: your device did not confirm it was you (screen lock, fingerprint or PIN). Try again with a device that can.",
  alreadyAdded: "That passkey is already added to your account.",
  signInFailed: "The passkey did not confirm your sign-in. Try again, or use the code sent by email.",
  signInNotVerified: "Your device did not confirm it was you (screen lock, fingerprint or PIN), so the passkey was not accepted. Try again, or use the code sent by email.",
  signInClone: "This passkey answered in a way that suggests it was copied, so FAMOS refused it. Use the code sent by email, and tell your IT support.",
  signInVoid: "This sign-in has ended. Log in again.",
} as const;
