import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { z } from "zod";

/** The longest credential JSON a browser sends FAMOS (attestation "none": about 1 KB). */
export const MAX_CREDENTIAL_JSON = 8192;

const b64url = z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+$/);
const base = { id: b64url, rawId: b64url, type: z.literal("public-key"), clientExtensionResults: z.record(z.string(), z.unknown()), authenticatorAttachment: z.string().max(32).optional() };

const registration = z.object({
  ...base,
  response: z.object({ clientDataJSON: b64url, attestationObject: b64url, transports: z.array(z.string().max(32)).max(10).optional() }).passthrough(),
}).passthrough();

const authentication = z.object({
  ...base,
  response: z.object({ clientDataJSON: b64url, authenticatorData: b64url, signature: b64url, userHandle: b64url.optional() }).passthrough(),
}).passthrough();

function parseJson(text: string): unknown {
  if (text.length === 0 || text.length > MAX_CREDENTIAL_JSON) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The browser's answer to "create", as @simplewebauthn/browser serialises it; null when it is not one. */
export function parseRegistrationJson(text: string): RegistrationResponseJSON | null {
  const result = registration.safeParse(parseJson(text));
  return result.success ? (result.data as unknown as RegistrationResponseJSON) : null;
}

/** The browser's answer to "get"; null when it is not one. */
export function parseAuthenticationJson(text: string): AuthenticationResponseJSON | null {
  const result = authentication.safeParse(parseJson(text));
  return result.success ? (result.data as unknown as AuthenticationResponseJSON) : null;
}
