import { describe, expect, it } from "vitest";
import { disableUser } from "../../src/account/disable.ts";
import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import type { Deps } from "../../src/app/deps.ts";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import { confirmEmailChange, startEmailChange } from "../../src/profile/email-change.ts";
import { changePassword } from "../../src/profile/password-change.ts";
import { createSession, type Session } from "../../src/session/sessions.ts";
import { confirmCode } from "../../src/signin/code-step.ts";
import type { Acting } from "../../src/support/acting.ts";
import type { User } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";
import { everyCode } from "../support/scripted-codes.ts";

const operator: Acting = { user: null, audit: { actor: "operator", ip: null, userAgent: null } };
const NEW_PASSWORD = "a new password of hers 7";

/**
 * A sign-in's right code confirmed on one instance at the moment the account's access changes on the
 * other (SPEC "Sessions": a password change or reset ends sessions on the server; issue 11: a disable
 * or a temporary password ends every session and pending code). Whichever commits first, the change
 * holds: no session of the sign-in is left live, and neither side fails. The second instance's change
 * must see the first's session, and the confirmation must see the change's voided code (both take the
 * user's row first: store/take-turns.ts).
 */
describe.each(DIALECTS)("a sign-in's code confirmed while the account changes, on two instances (%s)", (dialect: TestDialect) => {
  const race = useRacers(dialect, "lifecyclerace");

  type Change = (b: Deps, user: User & { password: string }, ctx: { ip: string; userAgent: string }) => Promise<{ kind: string }>;
  const changes: Record<string, { change: Change; done: string }> = {
    "a self-service reset completed": {
      change: async (b, user, ctx) => {
        const state = await startPasswordReset({ ...b, random: everyCode(123_456) }, user.login_id, ctx);
        return completePasswordReset(b, state, { code: "123456", newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD }, ctx);
      },
      done: "reset",
    },
    "support's temporary password": { change: (b, user) => setTemporaryPassword(b, operator, user.id, "temporary password 42"), done: "set" },
    "a disable": { change: (b, user) => disableUser(b, operator, user.id), done: "disabled" },
    "Profile's password change in another session": {
      change: async (b, user, ctx) => {
        const { session } = await createSession(b.db, b.random, race.now(), b.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
        const changed = await changePassword(b, user, session, { currentPassword: user.password, newPassword: NEW_PASSWORD, confirmNewPassword: NEW_PASSWORD }, ctx);
        // The session that changed it stays, as it should: only the sign-in's must end.
        await b.db.updateTable("sessions").set({ ended_at: race.now(), end_reason: "test" }).where("id", "=", changed.kind === "changed" ? changed.session.id : session.id).execute();
        return changed;
      },
      done: "changed",
    },
    "Profile's OTP email change confirmed in another session (the sign-in's code went to the old address)": {
      change: async (b, user, ctx) => {
        const now = race.now();
        const { session } = await createSession(b.db, b.random, now, b.config.session, { userId: user.id, stage: "full", flowId: null, ...ctx });
        await b.db.updateTable("sessions").set({ verified_at: now }).where("id", "=", session.id).execute();
        const address = `${user.login_id}.new@dealer.example`;
        const entry = { email: address, confirmEmail: address, ownMailbox: false };
        const started = await startEmailChange({ ...b, random: everyCode(123_456) }, user, { ...session, verified_at: now }, { entry, password: null }, ctx);
        if (started.kind !== "code-sent") return started;
        const current = (await b.db.selectFrom("sessions").selectAll().where("id", "=", session.id).executeTakeFirstOrThrow()) as Session;
        const changed = await confirmEmailChange(b, user, current, "123456", ctx);
        await b.db.updateTable("sessions").set({ ended_at: race.now(), end_reason: "test" }).where("id", "=", session.id).execute();
        return changed;
      },
      done: "changed",
    },
  };

  for (const [name, { change, done }] of Object.entries(changes)) {
    it(`${name}: ten rounds, each side answers, the change is made, and no session of the sign-in is left live`, { timeout: 60_000 }, async () => {
      const [a, b] = await race.pair();
      for (let round = 0; round < 10; round += 1) {
        const user = await addUser(a);
        const ctx = { ip: `198.51.100.${100 + round}`, userAgent: "race-test" };
        const now = race.now();
        const session = await a.db.transaction().execute(async (tx) => {
          const flow = await createFlow(tx, a.random, { userId: user.id, kind: "signin", email: user.otp_email!, now });
          await issueCode({ ...a, random: everyCode(123_456) }, tx, flow, user.login_id, now);
          return (await createSession(tx, a.random, now, a.config.session, { userId: user.id, stage: "otp", flowId: flow.id, ...ctx })).session;
        });
        // Jitter on both sides, wider on the confirmation's: a change that hashes a password first
        // (argon2id, tens of milliseconds) then meets the confirmation on either side of its commit.
        const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * ms)));
        const [confirmed, changed] = await Promise.allSettled([after(80).then(() => confirmCode(a, user, session, "123456", ctx)), after(6).then(() => change(b, user, ctx))]);
        expect([confirmed, changed].flatMap((o) => (o.status === "rejected" ? [String(o.reason)] : []))).toEqual([]);
        expect(changed.status === "fulfilled" && changed.value.kind, `round ${round}`).toBe(done);
        const live = await a.db.selectFrom("sessions").select("id").where("user_id", "=", user.id).where("ended_at", "is", null).execute();
        expect(live, `round ${round}: ${confirmed.status === "fulfilled" ? confirmed.value.kind : "rejected"}`).toEqual([]);
      }
    });
  }
});
