/**
 * Every security event FAMOS writes. The names are part of the interface: `famos audit --json`
 * prints them and the README lists them.
 */
export const AUDIT_EVENTS = {
  "password.ok": "Password accepted",
  "password.failed": "Password refused (wrong password, unknown login ID or locked)",
  "code.sent": "One time passcode sent",
  "code.confirmed": "One time passcode confirmed",
  "code.failed": "Wrong one time passcode",
  "code.expired": "Expired one time passcode",
  "code.regenerated": "One time passcode regenerated",
  "code.cancelled": "Code entry cancelled",
  "code.reused": "One time passcode entered again after it was used (refused, not counted)",
  "enrolment.started": "OTP email entered, waiting for its code",
  "enrolment.confirmed": "OTP email confirmed",
  "email.change-started": "New OTP email entered, waiting for its code",
  "email.changed": "OTP email changed",
  "email.reset": "OTP email reset by support",
  "password.changed": "Password changed",
  "lock.started": "Sign-in locked after repeated failures",
  "unlock": "Account unlocked",
  "address.unlocked": "Address unlocked by support",
  "signout": "Signed out",
  "session.ended": "Session ended",
  "notice.created": "Notice posted",
  "notice.updated": "Notice edited",
  "notice.ended": "Notice ended",
  "role.changed": "Role changed",
  "user.created": "User created",
  "user.updated": "User updated by import",
  "password.import-not-applied": "File password hash recorded by import, not applied (the account's own password kept)",
  "user.disabled": "Account disabled (a leaver: sessions ended, codes voided) or kept disabled (no import enables it again)",
  "user.enabled": "Account enabled again",
  "user.erased": "User deleted; their audit events kept under a pseudonym",
  "password.temporary-set": "Temporary password set by support",
  "password.reset-requested": "Self-service password reset asked for",
  "password.reset": "Password reset with a code (self-service)",
  "retention.cleanup": "Retention job removed or pseudonymised old audit events",
  "signin.before-wave": "Signed in with the password alone, before the user's 2FA start",
  "enrolment.deferred": "\"Later\" chosen on User profile (one of FAMOS_2FA_GRACE_SIGNINS)",
  "rollout.planned": "2FA rollout start set or removed for a partner or the default",
  "rollout.announced": "2FA announcement queued for a user",
  "mail.bounced": "Email bounced (could not be delivered, or delayed)",
  "mail.forward-bounced": "A forward of the email to another mailbox bounced (the address it was sent to took it)",
  "app.setup-started": "Authenticator app setup started (secret shown, waiting for its first code)",
  "app.added": "Authenticator app set up (its first code confirmed)",
  "app.removed": "Authenticator app removed by its user",
  "app.confirmed": "Signed in with an authenticator-app code",
  "app.failed": "Wrong authenticator-app code",
  "recovery-code.used": "Signed in with a recovery code",
  "recovery-code.failed": "Wrong recovery code",
  "recovery-codes.issued": "New set of recovery codes made (the old set no longer works)",
  "factors.removed": "Passkeys, authenticator app and recovery codes removed by support",
  "app.reused": "Authenticator-app code typed again after it was used (refused)",
  "recovery-code.reused": "Used recovery code typed again (refused)",
  "passkey.added": "Passkey added on Profile",
  "passkey.add-failed": "Passkey could not be added (invalid answer, or the device did not verify the user)",
  "passkey.removed": "Passkey removed",
  "passkey.confirmed": "Sign-in confirmed with a passkey",
  "passkey.failed": "Passkey refused at sign-in (unknown passkey, no user verification, invalid signature, origin or RP ID)",
  "passkey.counter-regressed": "Passkey refused: its signature counter went back (a cloned authenticator?)",
  "console.step-up-passed": "Password typed again in the console before an action on another account's access",
  "console.step-up-failed": "Password typed again in the console refused (wrong, or paused)",
  "audit.exported": "Audit trail downloaded as CSV by support",
  "console.limit-reached": "A support person reached the limit of changes in the console: further ones wait",
} as const;

export type AuditEventName = keyof typeof AUDIT_EVENTS;

/**
 * Whether a name (a filter typed by support or an operator) is an audit event: one of AUDIT_EVENTS'
 * own keys, never a name every object inherits ("toString", "constructor", "__proto__").
 */
export function isAuditEvent(name: string): name is AuditEventName {
  return Object.hasOwn(AUDIT_EVENTS, name);
}
