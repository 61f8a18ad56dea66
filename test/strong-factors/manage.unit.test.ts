import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { createSession, tokenHash, type Session } from "../../src/session/sessions.ts";
import { passkeyBrings } from "../../src/strong-factors/manage.ts";
import { createUser, type User } from "../../src/users/users.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const HOUR = 3_600_000;
const ctx = { ip: "192.0.2.9", userAgent: "manage.unit" };

/**
 * What a new passkey brings to its session and account (src/strong-factors/manage.ts, passkeyBrings and
 * toFull), on the domain alone: a password-only session (before its wave, or "Later") becomes a two-factor
 * one (verified now, ending FAMOS_SESSION_MAX from its start, a new token); the setup screen's session goes
 * to the portal with a new token but keeps the code verified in it and its end; a two-factor session on the
 * portal stays as it was. The first strong factor brings ten recovery codes, audited "with: passkey"; a
 * user with codes left (one is enough) gets none. test/rollout/strong-factor-before-wave walks it through a browser.
 */
describe("passkeyBrings and toFull (unit tier)", () => {
  const unit = useUnitDeps();
  let n = 0;

  async function user(): Promise<User> {
    n += 1;
    return (await createUser(unit.db, unit.deps.keys, unit.deps.random, unit.now(), { loginId: `manage-${n}`, fullName: "Jane Smith", partnerNumber: "01234", role: "support", passwordHash: "x", otpEmail: null }))!;
  }

  /** A session of the user at `stage`, made an hour ago and ending in an hour (a wave's start), verified at `verifiedAt`. */
  async function session(u: User, stage: Session["stage"], verifiedAt: number | null): Promise<Session> {
    const t = unit.now();
    const { session: made } = await createSession(unit.db, unit.deps.random, t - HOUR, unit.deps.config.session, { userId: u.id, stage, flowId: null, ip: ctx.ip, userAgent: ctx.userAgent, endsBy: t + HOUR });
    if (verifiedAt === null) return made;
    await unit.db.updateTable("sessions").set({ verified_at: verifiedAt }).where("id", "=", made.id).execute();
    return { ...made, verified_at: verifiedAt };
  }

  const brings = (u: User, s: Session) => unit.db.transaction().execute((tx) => passkeyBrings(tx, unit.deps, u, s, ctx, unit.now()));
  const stored = (id: string) => unit.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const issued = async (login: string) => (await queryAudit(unit.db, { event: "recovery-codes.issued", limit: 100 })).filter((e) => e.subject === login);

  it("a password-only session on the portal becomes a two-factor one: verified now, FAMOS_SESSION_MAX from its start, a new token", async () => {
    const u = await user();
    const s = await session(u, "full", null);
    const brought = await brings(u, s);
    expect(brought.renewed).not.toBeNull();
    const expected = { stage: "full", verified_at: unit.now(), expires_at: s.created_at + unit.deps.config.session.maxMs };
    expect(brought.renewed!.session).toMatchObject({ ...expected, token_hash: tokenHash(brought.renewed!.token) });
    expect(await stored(s.id)).toMatchObject({ ...expected, token_hash: tokenHash(brought.renewed!.token) });
    expect(brought.renewed!.session.token_hash).not.toBe(s.token_hash);
  });

  it("a password-only session in the password stage (a temporary password's) is verified too, and goes to the portal", async () => {
    const u = await user();
    const s = await session(u, "password", null);
    const brought = await brings(u, s);
    expect(await stored(s.id)).toMatchObject({ stage: "full", verified_at: unit.now(), token_hash: tokenHash(brought.renewed!.token) });
  });

  it("the setup screen's session goes to the portal with a new token, keeping the code verified in it and its end", async () => {
    const u = await user();
    const verifiedAt = unit.now() - 30 * 60_000;
    const s = await session(u, "factor-setup", verifiedAt);
    const brought = await brings(u, s);
    expect(brought.renewed).not.toBeNull();
    const expected = { stage: "full", verified_at: verifiedAt, expires_at: s.expires_at, token_hash: tokenHash(brought.renewed!.token) };
    expect(brought.renewed!.session).toMatchObject(expected);
    expect(await stored(s.id)).toMatchObject(expected);
  });

  it("a two-factor session on the portal stays as it was: no new token, nothing renewed", async () => {
    const u = await user();
    const verifiedAt = unit.now() - 30 * 60_000;
    const s = await session(u, "full", verifiedAt);
    const brought = await brings(u, s);
    expect(brought.renewed).toBeNull();
    expect(await stored(s.id)).toMatchObject({ stage: "full", verified_at: verifiedAt, expires_at: s.expires_at, token_hash: s.token_hash });
  });

  it("the first strong factor brings ten recovery codes, audited with the passkey; a user with codes left (one is enough) gets none", async () => {
    const u = await user();
    const first = await brings(u, await session(u, "full", unit.now()));
    expect(first.recoveryCodes).toHaveLength(10);
    expect((await issued(u.login_id)).map((e) => e.detail)).toEqual([{ with: "passkey" }]);
    const second = await brings(u, await session(u, "full", unit.now()));
    expect(second.recoveryCodes).toBeNull();
    // One code left (nine used) is a set still: it is not replaced.
    const nine = (await unit.db.selectFrom("recovery_codes").select("id").where("user_id", "=", u.id).execute()).slice(1).map((r) => r.id);
    await unit.db.updateTable("recovery_codes").set({ used_at: unit.now() }).where("id", "in", nine).execute();
    const third = await brings(u, await session(u, "full", unit.now()));
    expect(third.recoveryCodes).toBeNull();
    expect(await issued(u.login_id)).toHaveLength(1);
  });
});
