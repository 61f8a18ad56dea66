/**
 * Every English string of the passkey screens and answers (issue 13), in one place for the message
 * catalogue of issue 16. SPEC's style: plain words, say what happened and what to do next.
 */
export const PASSKEY_TEXT = {
  // Profile, "Passkeys"
  sectionHeading: "Passkeys",
  sectionIntro:
    "A passkey lets you confirm your sign-in with this device's screen lock, fingerprint or face, or a security key, instead of a code by email. It cannot be phished: it works only on FAMOS's own address.",
  none: "You have no passkeys yet.",
  columnName: "Name",
  columnAdded: "Added",
  columnLastUsed: "Last used",
  columnAction: "Action",
  neverUsed: "Not used yet",
  nameLabel: "Name for the passkey",
  nameHint: "So you can tell your passkeys apart, for example \"Work laptop\" or \"Blue security key\".",
  addButton: "Add a passkey",
  removeButton: "Remove",
  removeLabel: (name: string) => `Remove the passkey "${name}"`,
  passwordLabel: "Password",
  passwordHint: (recent: string) => `You have not confirmed a code in the last ${recent}, so enter your password to change your passkeys.`,
  needsScript: "Your browser needs JavaScript turned on to use passkeys. Turn it on, or use the code sent by email.",
  // Outcomes on Profile
  added: "The passkey was added. Next time you sign in you can use it instead of the code sent by email.",
  removed: "The passkey was removed. It no longer signs you in.",
  notFound: "There is no such passkey of yours to remove. It may have been removed already.",
  nameMissing: "Give the passkey a name, so you can tell it apart from others.",
  nameTooLong: "The name is too long: use at most 64 characters.",
  tooMany: (max: number) => `You have ${max} passkeys, the most FAMOS keeps. Remove one you no longer use first.`,
  passwordNeeded: (recent: string) => `You have not confirmed a code in the last ${recent}: enter your password to change your passkeys.`,
  passwordWrong: "The password is not right. Check it and try again.",
  noCredential: "Your browser did not send a passkey. Passkeys need JavaScript turned on; or the request was cancelled. Try again.",
  registrationFailed: "The passkey could not be added: your browser's answer was not valid for FAMOS, or it took too long. Try again.",
  notVerifiedAdd: "The passkey could not be added: your device did not confirm it was you (screen lock, fingerprint or PIN). Try again with a device that can.",
  alreadyAdded: "That passkey is already added to your account.",
  // OTP capture
  useInstead: "Use a passkey instead",
  useInsteadIntro: "Or confirm this sign-in with a passkey you added on Profile.",
  signInFailed: "The passkey did not confirm your sign-in. Try again, or use the code sent by email.",
  signInNotVerified: "Your device did not confirm it was you (screen lock, fingerprint or PIN), so the passkey was not accepted. Try again, or use the code sent by email.",
  signInClone: "This passkey answered in a way that suggests it was copied, so FAMOS refused it. Use the code sent by email, and tell your IT support.",
  signInVoid: "This sign-in has ended. Log in again.",
  signInLocked: "Too many failed attempts to confirm this sign-in.",
  // The browser module's own words (sent to it in data- attributes)
  scriptCancelled: "The passkey request was cancelled or timed out. Try again.",
  scriptUnsupported: "This browser cannot use passkeys. Use the code sent by email instead.",
  scriptWorking: "Follow your browser's instructions to use your passkey…",
} as const;
