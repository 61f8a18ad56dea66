/**
 * Input limits of the factor steps, one home for each (issue 10.5). A longer login ID or password is
 * refused before any work that depends on it; the password limit is far above the policy's maximum
 * for new passwords (password/policy.ts) because imported passwords were set under other rules.
 */
export const MAX_LOGIN_ID_LENGTH = 128;
export const MAX_PASSWORD_LENGTH = 1024;
