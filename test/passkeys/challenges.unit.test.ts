import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CHALLENGE_TTL_MS, consumeChallenge, issueChallenge } from "../../src/passkeys/challenges.ts";
import { createSession } from "../../src/session/sessions.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/** WebAuthn Level 3 §13.4.3: a challenge is random, single use, short-lived and bound to its session and purpose. */
describe("passkey challenges (unit tier)", () => {
  const unit = useUnitDeps();
  const now = unit.now;
  async function session(): Promise<string> {
    const user = await addUser(unit.deps);
    const made = await createSession(unit.deps.db, unit.deps.random, now(), unit.deps.config.session, { userId: user.id, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" });
    return made.session.id;
  }
  const rows = (sessionId: string) => unit.deps.db.selectFrom("passkey_challenges").selectAll().where("session_id", "=", sessionId).execute();

  it("is 32 random bytes in base64url, stored only as its SHA-256, expiring after CHALLENGE_TTL_MS", async () => {
    const id = await session();
    const challenge = await issueChallenge(unit.deps, id, "register", now());
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [row] = await rows(id);
    expect(row).toEqual({
      challenge_hash: createHash("sha256").update(challenge).digest("base64url"),
      session_id: id,
      purpose: "register",
      created_at: now(),
      expires_at: now() + CHALLENGE_TTL_MS,
      used_at: null,
    });
    expect(CHALLENGE_TTL_MS).toBe(5 * 60_000);
  });

  it("works once: the second answer with the same challenge is refused", async () => {
    const id = await session();
    const challenge = await issueChallenge(unit.deps, id, "signin", now());
    expect(await consumeChallenge(unit.deps.db, id, "signin", challenge, now())).toBe(true);
    expect(await consumeChallenge(unit.deps.db, id, "signin", challenge, now())).toBe(false);
    expect((await rows(id))[0]?.used_at).toBe(now());
  });

  it("expires: good until just before CHALLENGE_TTL_MS, refused at it", async () => {
    const id = await session();
    const issuedAt = now();
    const late = await issueChallenge(unit.deps, id, "signin", issuedAt);
    expect(await consumeChallenge(unit.deps.db, id, "signin", late, issuedAt + CHALLENGE_TTL_MS)).toBe(false);
    const onTime = await issueChallenge(unit.deps, id, "signin", issuedAt);
    expect(await consumeChallenge(unit.deps.db, id, "signin", onTime, issuedAt + CHALLENGE_TTL_MS - 1)).toBe(true);
  });

  it("is bound to its session and its purpose", async () => {
    const mine = await session();
    const other = await session();
    const challenge = await issueChallenge(unit.deps, mine, "register", now());
    expect(await consumeChallenge(unit.deps.db, other, "register", challenge, now())).toBe(false);
    expect(await consumeChallenge(unit.deps.db, mine, "signin", challenge, now())).toBe(false);
    expect(await consumeChallenge(unit.deps.db, mine, "register", "not-" + challenge, now())).toBe(false);
    expect(await consumeChallenge(unit.deps.db, mine, "register", challenge, now())).toBe(true);
  });

  it("asking again voids the session's earlier challenge of that purpose only", async () => {
    const id = await session();
    const other = await session();
    const first = await issueChallenge(unit.deps, id, "register", now());
    const signin = await issueChallenge(unit.deps, id, "signin", now());
    const othersRegister = await issueChallenge(unit.deps, other, "register", now());
    const second = await issueChallenge(unit.deps, id, "register", now());
    expect(second).not.toBe(first);
    expect(await consumeChallenge(unit.deps.db, id, "register", first, now())).toBe(false);
    expect(await consumeChallenge(unit.deps.db, id, "register", second, now())).toBe(true);
    expect(await consumeChallenge(unit.deps.db, id, "signin", signin, now())).toBe(true);
    expect(await consumeChallenge(unit.deps.db, other, "register", othersRegister, now())).toBe(true);
  });
});
