import { describe, expect, it } from "vitest";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import { verifyPassword } from "../../src/password/hash.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser } from "../support/app.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { extractCode } from "../support/smtp.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

/**
 * "Forgot password?" step 2 with one code sent by two browsers at once, each to another instance (a
 * double click behind a load balancer, or the owner and whoever reads the same mailbox): the code is
 * single use across instances (useCode's conditional update), so exactly one new password is set, the
 * other request is refused with its try given back, and nothing counts as a wrong guess.
 */
describe.each(DIALECTS)("one reset code confirmed at once on two instances (%s)", (dialect: TestDialect) => {
  const race = useRacers(dialect, "resettwice");

  it("five rounds: one resets, the other is refused; the password is the winner's; no wrong try counted", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(a);
      const ctx = { ip: `198.51.100.${60 + round}`, userAgent: "race-test" };
      const state = await startPasswordReset(a, user.login_id, ctx);
      const mail = await a.db.selectFrom("codes").innerJoin("outbox", "outbox.id", "codes.outbox_id").select("outbox.text_body").where("codes.flow_id", "=", state.flowId).executeTakeFirstOrThrow();
      const code = extractCode(mail.text_body);
      const chosen = [`first chosen password ${round}`, `second chosen password ${round}`];
      const outcomes = await Promise.all([a, b].map((deps, i) => completePasswordReset(deps, state, { code, newPassword: chosen[i]!, confirmNewPassword: chosen[i]! }, ctx)));
      expect(outcomes.map((o) => o.kind).sort(), `round ${round}`).toEqual(["code-refused", "reset"]);
      const winner = chosen[outcomes.findIndex((o) => o.kind === "reset")]!;
      const stored = (await findUserById(a.db, user.id))!;
      expect((await verifyPassword(stored.password_hash, winner)).ok).toBe(true);
      const events = await a.db.selectFrom("audit").select("event").where("subject", "in", [user.login_id, user.login_key]).where("event", "in", ["password.reset", "code.failed"]).execute();
      expect(events.map((e) => e.event)).toEqual(["password.reset"]);
    }
  });

  it("two resets of one account, each with its own code (the owner and whoever reads the same mailbox), at once: one password is set, the other refused", { timeout: 60_000 }, async () => {
    const [a, b] = await race.pair();
    for (let round = 0; round < 5; round += 1) {
      const user = await addUser(a);
      const ctx = { ip: `198.51.100.${70 + round}`, userAgent: "race-test" };
      const states = [await startPasswordReset(a, user.login_id, ctx), await startPasswordReset(b, user.login_id, ctx)];
      const codes = await Promise.all(
        states.map(async (state) => {
          const mail = await a.db.selectFrom("codes").innerJoin("outbox", "outbox.id", "codes.outbox_id").select("outbox.text_body").where("codes.flow_id", "=", state.flowId).executeTakeFirstOrThrow();
          return extractCode(mail.text_body);
        }),
      );
      const chosen = [`owner's new password ${round}`, `colleague's new password ${round}`];
      const outcomes = await Promise.all(
        [a, b].map((deps, i) => completePasswordReset(deps, states[i]!, { code: codes[i]!, newPassword: chosen[i]!, confirmNewPassword: chosen[i]! }, ctx)),
      );
      expect(outcomes.map((o) => o.kind).sort(), `round ${round}`).toEqual(["code-refused", "reset"]);
      const winner = chosen[outcomes.findIndex((o) => o.kind === "reset")]!;
      expect((await verifyPassword((await findUserById(a.db, user.id))!.password_hash, winner)).ok).toBe(true);
      const events = await a.db.selectFrom("audit").select("event").where("subject", "in", [user.login_id, user.login_key]).where("event", "=", "password.reset").execute();
      expect(events).toHaveLength(1);
    }
  });
});
