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
  "enrolment.started": "OTP email entered, waiting for its code",
  "enrolment.confirmed": "OTP email confirmed",
  "email.change-started": "New OTP email entered, waiting for its code",
  "email.changed": "OTP email changed",
  "email.reset": "OTP email reset by support",
  "password.changed": "Password changed",
  "lock.started": "Sign-in locked after repeated failures",
  "unlock": "Account unlocked",
  "signout": "Signed out",
  "session.ended": "Session ended",
  "notice.created": "Notice posted",
  "notice.updated": "Notice edited",
  "notice.ended": "Notice ended",
  "role.changed": "Role changed",
  "user.created": "User created",
  "user.updated": "User updated by import",
  "user.disabled": "Account disabled (a leaver): sessions ended, codes voided",
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
} as const;

export type AuditEventName = keyof typeof AUDIT_EVENTS;
