import { decodeSecret } from "../../src/config/secret.ts";
import { deriveKeys } from "../../src/platform/keys.ts";
import { counterKey, type FailureKind } from "../../src/regulation/counter-key.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { loginKey } from "../../src/users/users.ts";
import { TEST_SECRET } from "./app.ts";

/** The keys of a test app (FAMOS_SECRET is TEST_SECRET in createTestApp and the unit tier's apps). */
export const TEST_KEYS = deriveKeys(decodeSecret(TEST_SECRET)!);

/** The digest a test app counts a login ID under (src/users/login-digest.ts). */
export function testLoginDigest(loginId: string): string {
  return loginDigest(TEST_KEYS, loginKey(loginId));
}

/** A login ID's counter key as a test app keeps it: "password:id:<digest>", never the login ID as typed. */
export function loginCounterKey(kind: FailureKind, loginId: string): string {
  return counterKey.loginId(kind, testLoginDigest(loginId));
}
