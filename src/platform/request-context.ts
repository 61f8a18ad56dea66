import type { DeviceReads } from "../regulation/devices.ts";

/** Where a request came from: written to the audit trail and used to key throttles. */
export interface RequestContext {
  ip: string;
  userAgent: string;
  /** The browser's device cookie tokens (unverified; see regulation/devices.ts). */
  deviceTokens?: readonly string[];
  /** The request's own device reads (regulation/devices.ts identifyDevice), never another request's. */
  deviceReads?: DeviceReads;
}
