import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import type { Database, PasskeyChallengesTable } from "../store/schema.ts";
import { takeTurnsOn } from "../store/take-turns.ts";

/** How long a browser has to answer a challenge: enough to find and touch the authenticator. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

export type ChallengePurpose = PasskeyChallengesTable["purpose"];

const hash = (challenge: string) => createHash("sha256").update(challenge).digest("base64url");

/**
 * A new WebAuthn challenge (32 random bytes, base64url) for this session and purpose. Asking again
 * voids the session's earlier ones of the same purpose: one ceremony at a time per session.
 */
export async function issueChallenge(deps: Pick<Deps, "db" | "random" | "dialect">, sessionId: string, purpose: ChallengePurpose, now: number): Promise<string> {
  const challenge = deps.random.bytes(32).toString("base64url");
  await deps.db.transaction().execute(async (tx) => {
    // Two asked at once (two tabs of one session, two instances) would otherwise both stay live.
    await takeTurnsOn(tx, deps.dialect, { table: "sessions", id: sessionId });
    await tx.deleteFrom("passkey_challenges").where("session_id", "=", sessionId).where("purpose", "=", purpose).execute();
    await tx
      .insertInto("passkey_challenges")
      .values({ challenge_hash: hash(challenge), session_id: sessionId, purpose, created_at: now, expires_at: now + CHALLENGE_TTL_MS, used_at: null })
      .execute();
  });
  return challenge;
}

/**
 * Uses up the challenge the browser answered, if it is this session's, for this purpose, unexpired
 * and unused — in one conditional UPDATE, so two requests racing with one answer cannot both pass
 * (WebAuthn Level 3 §13.4.3). Any answer uses its challenge up, right or wrong.
 */
export async function consumeChallenge(db: Kysely<Database>, sessionId: string, purpose: ChallengePurpose, challenge: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("passkey_challenges")
    .set({ used_at: now })
    .where("challenge_hash", "=", hash(challenge))
    .where("session_id", "=", sessionId)
    .where("purpose", "=", purpose)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
