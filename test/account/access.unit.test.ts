import { describe, expect, it } from "vitest";
import { accessText, endUserAccess, signInBarred } from "../../src/account/access.ts";
import { generateTemporaryPassword, setTemporaryPassword, stageAfterSignIn } from "../../src/account/temporary-password.ts";
import { translator } from "../../src/i18n/translator.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import type { Random } from "../../src/platform/random.ts";
import { createSession } from "../../src/session/sessions.ts";
import { findUserById, type User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const HOUR = 3_600_000;
const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };
const TEMPORARY = "tmp-pass-word-4711";

/** What ends a user's access, and the temporary password set by support (issue 11; ASVS 2.2.1). */
describe("account access and temporary passwords (unit tier)", () => {
  const unit = useUnitDeps({ env: { FAMOS_TEMP_PASSWORD_TTL: "72h" } });
  const now = unit.now;
  const reload = async (id: string): Promise<User> => (await findUserById(unit.deps.db, id))!;
  async function session(userId: string) {
    return (await createSession(unit.deps.db, unit.deps.random, now(), unit.deps.config.session, { userId, stage: "full", flowId: null, ip: "192.0.2.1", userAgent: "unit" })).session.id;
  }
  async function pending(user: User) {
    const flow = await createFlow(unit.deps.db, unit.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: now() });
    await issueCode(unit.deps, unit.deps.db, flow, user.login_id, now());
    return flow.id;
  }
  const liveSessions = (userId: string) => unit.deps.db.selectFrom("sessions").select("id").where("user_id", "=", userId).where("ended_at", "is", null).execute();
  const liveCodes = (userId: string) => unit.deps.db.selectFrom("codes").select("id").where("user_id", "=", userId).where("voided_at", "is", null).where("consumed_at", "is", null).execute();
  const openFlows = (userId: string) => unit.deps.db.selectFrom("flows").select("id").where("user_id", "=", userId).where("finished_at", "is", null).execute();

  describe("signInBarred", () => {
    it("bars a disabled account first, then a temporary password at or past its end; a used one (0) stays barred", async () => {
      const user = await addUser(unit.deps);
      expect(signInBarred(user, now())).toBeNull();
      expect(signInBarred({ ...user, password_temporary_until: now() + 1 }, now())).toBeNull();
      expect(signInBarred({ ...user, password_temporary_until: now() }, now())).toBe("temporary-password-expired");
      expect(signInBarred({ ...user, password_temporary_until: 0 }, now())).toBe("temporary-password-expired");
      expect(signInBarred({ ...user, disabled_at: now() - HOUR, password_temporary_until: now() + HOUR }, now())).toBe("disabled");
      expect(signInBarred({ ...user, disabled_at: now() - HOUR, password_temporary_until: now() - HOUR }, now())).toBe("disabled");
    });
  });

  describe("endUserAccess", () => {
    it("ends every live session, pending code and open flow of this user, and no one else's", async () => {
      const user = await addUser(unit.deps);
      const other = await addUser(unit.deps);
      for (const who of [user, other]) {
        await session(who.id);
        await session(who.id);
        await pending(who);
      }
      expect(await endUserAccess(unit.deps.db, user.id, now(), "test")).toEqual({ sessions: 2, codes: 1 });
      expect(await liveSessions(user.id)).toEqual([]);
      expect(await liveCodes(user.id)).toEqual([]);
      expect(await openFlows(user.id)).toEqual([]);
      const [flow] = await unit.deps.db.selectFrom("flows").select("finished_at").where("user_id", "=", user.id).execute();
      expect(flow?.finished_at).toBe(now());
      expect(await liveSessions(other.id)).toHaveLength(2);
      expect(await liveCodes(other.id)).toHaveLength(1);
      expect(await openFlows(other.id)).toHaveLength(1);
    });
  });

  describe("accessText", () => {
    it("names the five states: disabled, temporary password used, ran out, valid until, enabled", async () => {
      const t = translator("en-GB", "UTC");
      const user = await addUser(unit.deps);
      const at = now();
      const line = (u: typeof user) => accessText(t, u, at);
      expect(line(user)).toBe(t.text("console.access.enabled"));
      expect(line({ ...user, password_temporary_until: 0 })).toBe(t.text("console.access.temporaryUsed"));
      expect(line({ ...user, password_temporary_until: at + 1 })).toBe(t.text("console.access.temporary", { until: t.dateTime(at + 1) }));
      expect(line({ ...user, disabled_at: at, password_temporary_until: 0 })).toBe(t.text("console.access.disabled", { since: t.dateTime(at) }));
      // One that ran out on its own: at its end, as signInBarred refuses it then, and after.
      for (const until of [at, at - 1, at - 86_400_000]) {
        expect(signInBarred({ ...user, password_temporary_until: until }, at)).toBe("temporary-password-expired");
        expect(line({ ...user, password_temporary_until: until })).toBe(t.text("console.access.temporaryRanOut", { until: t.dateTime(until) }));
      }
      expect(line({ ...user, password_temporary_until: at - 1 })).toBe("Enabled; temporary password ran out at 28/11/2026 13:59, no new password chosen yet");
      // Disabled by a partner's import --sync: the line says an import at another partner brings them back.
      const bySync = line({ ...user, disabled_at: at, sync_disabled_partner: "01234" });
      expect(bySync).toBe(t.text("console.access.disabledBySync", { since: t.dateTime(at), partner: "01234" }));
      expect(bySync).toBe("Disabled since 28/11/2026 14:00 by partner 01234’s import --sync: cannot sign in; an import placing them at another partner enables them again");
      const lines = [user, { ...user, password_temporary_until: 0 }, { ...user, password_temporary_until: at + 1 }, { ...user, password_temporary_until: at - 1 }].map(line);
      expect(new Set(lines).size).toBe(4);
    });
  });

  describe("generateTemporaryPassword", () => {
    it("is four groups of four from the 32 unambiguous symbols, each drawn from the whole alphabet", () => {
      const draws: number[] = [];
      let i = 0;
      const counting: Random = {
        bytes: () => Buffer.alloc(0),
        int: (max) => {
          draws.push(max);
          return i++ % max;
        },
      };
      expect(generateTemporaryPassword(counting)).toBe("abcd-efgh-ijkm-npqr");
      expect(draws).toEqual(Array(16).fill(32));
      i = 16;
      expect(generateTemporaryPassword(counting)).toBe("stuv-wxyz-2345-6789");
      expect(generateTemporaryPassword(unit.deps.random)).toMatch(/^[a-km-np-z2-9]{4}(-[a-km-np-z2-9]{4}){3}$/);
    });
  });

  describe("setTemporaryPassword", () => {
    it("sets it until now + FAMOS_TEMP_PASSWORD_TTL, ends the account's access, tells its OTP email, audits without the password", async () => {
      const user = await addUser(unit.deps);
      await session(user.id);
      await pending(user);
      const outbox = async () => unit.deps.db.selectFrom("outbox").selectAll().where("recipient", "=", user.otp_email!).execute();
      const before = (await outbox()).length;
      let woken = 0;
      const set = await setTemporaryPassword({ ...unit.deps, mailQueued: () => (woken += 1) }, operator, user.id, TEMPORARY, "RITM9");
      expect(set).toMatchObject({ kind: "set", expiresAt: now() + 72 * HOUR, sessionsEnded: 1 });
      expect(woken).toBe(1);
      const ended = await unit.deps.db.selectFrom("sessions").select("end_reason").where("user_id", "=", user.id).execute();
      expect(ended.map((s) => s.end_reason)).toEqual(["temporary-password"]);
      const after = await reload(user.id);
      expect(after.password_temporary_until).toBe(now() + 72 * HOUR);
      expect(after.password_hash).not.toBe(user.password_hash);
      expect(await liveSessions(user.id)).toEqual([]);
      expect(await liveCodes(user.id)).toEqual([]);
      expect(await openFlows(user.id)).toEqual([]);
      const mails = await outbox();
      expect(mails.length).toBe(before + 1);
      expect(mails.at(-1)?.kind).toBe("notice.temporary-password");
      const audit = await unit.deps.db.selectFrom("audit").selectAll().where("event", "=", "password.temporary-set").execute();
      const mine = audit.filter((a) => a.subject === user.login_id);
      expect(mine).toHaveLength(1);
      expect(JSON.stringify(mine)).not.toContain(TEMPORARY);
      expect(JSON.stringify(mine)).toContain("RITM9");
    });

    it("sends no mail to an account without an OTP email", async () => {
      const user = await addUser(unit.deps, { email: null });
      const before = (await unit.deps.db.selectFrom("outbox").select("id").execute()).length;
      expect((await setTemporaryPassword(unit.deps, operator, user.id, TEMPORARY)).kind).toBe("set");
      expect((await unit.deps.db.selectFrom("outbox").select("id").execute()).length).toBe(before);
    });

    it("refuses an unknown account, a password against the policy, and a support person's own account, changing nothing", async () => {
      expect(await setTemporaryPassword(unit.deps, operator, "no-such-id", TEMPORARY)).toEqual({ kind: "not-found" });
      const user = await addUser(unit.deps, { loginId: "temporary.policy.check", fullName: "Jonathan Temporary-Policy" });
      let woken = 0;
      const counting = { ...unit.deps, mailQueued: () => (woken += 1) };
      for (const bad of ["short", "temporary.policy.check", "Jonathan Temporary-Policy"]) {
        expect((await setTemporaryPassword(counting, operator, user.id, bad)).kind, bad).toBe("invalid");
      }
      const support = await addUser(unit.deps, { role: "support" });
      const self = await setTemporaryPassword(counting, { user: support, audit: operator.audit }, support.id, TEMPORARY);
      expect(self).toMatchObject({ kind: "forbidden", reason: "own-account" });
      expect((await reload(user.id)).password_temporary_until).toBeNull();
      expect((await reload(support.id)).password_temporary_until).toBeNull();
      expect(woken).toBe(0);
    });
  });

  describe("stageAfterSignIn", () => {
    const ORIGIN = { ip: "10.0.0.9", userAgent: "test" };
    it("'full' for an ordinary password; 'password' for a temporary one, which is then used up (0)", async () => {
      const user = await addUser(unit.deps);
      expect(await stageAfterSignIn(unit.deps.db, user, now(), ORIGIN)).toBe("full");
      expect((await reload(user.id)).password_temporary_until).toBeNull();
      await setTemporaryPassword(unit.deps, operator, user.id, TEMPORARY);
      const temp = await reload(user.id);
      expect(await stageAfterSignIn(unit.deps.db, temp, now(), ORIGIN)).toBe("password");
      expect((await reload(user.id)).password_temporary_until).toBe(0);
      expect(signInBarred(await reload(user.id), now())).toBe("temporary-password-expired");
    });
  });
});
