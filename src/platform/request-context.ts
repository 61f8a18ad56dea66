/** Where a request came from: written to the audit trail and used to key throttles. */
export interface RequestContext {
  ip: string;
  userAgent: string;
  /** The browser's device cookie tokens (unverified; see regulation/devices.ts). */
  deviceTokens?: readonly string[];
}
