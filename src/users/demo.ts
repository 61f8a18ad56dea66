import type { Deps } from "../app/deps.ts";
import { hashPassword } from "../password/hash.ts";
import { createUser } from "./users.ts";

/**
 * Development only: on an empty database, a user "demo" with a random password, so a newcomer can
 * sign in straight after `npm start`. Returns the password once; it is never stored in clear.
 */
export async function ensureDemoUser(deps: Deps): Promise<{ password: string } | null> {
  const any = await deps.db.selectFrom("users").select("id").limit(1).executeTakeFirst();
  if (any) return null;
  const password = deps.random.bytes(12).toString("base64url");
  // A second instance starting on the same empty database at the same instant may create it first.
  const created = await createUser(deps.db, deps.keys, deps.random, deps.clock.now(), {
    loginId: "demo",
    fullName: "Demo User",
    partnerNumber: "00001",
    role: "admin",
    passwordHash: await hashPassword(password),
    otpEmail: null,
  });
  return created ? { password } : null;
}
