import { describe, expect, it } from "vitest";
import { issueCode } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { completePasswordReset } from "../../src/password-reset/reset.ts";
import { createSession } from "../../src/session/sessions.ts";
import { confirmCode } from "../../src/signin/code-step.ts";
import { addUser } from "../support/app.ts";
import { startPasswordReset } from "../support/password-reset.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";
import { everyCode } from "../support/scripted-codes.ts";

const guesses = (n: number) => Array.from({ length: n }, (_, i) => String(200_000 + i));

/**
 * SPEC "Locks" and "Tries" under a burst: twenty wrong codes sent at once, alternating between two
 * instances, from a new browser. Each attempt is counted before its code is compared, in the statement
 * that checks the limit (regulation/throttle.ts reserveAttempt), so no more than FAMOS_LOCK_AFTER of
 * them are ever compared, and the rest are refused unchecked; the right code, sent after, is refused
 * too while the pause holds. The password's burst is proven in throttle.test "issue 19.1" and
 * security/burst.test; these are the sign-in's code and the self-service reset's code.
 */
describe.each(DIALECTS)("wrong codes in a burst on two instances (%s)", (dialect: TestDialect) => {
  const race = useRacers(dialect, "codeburst");

  it("the sign-in's code: 5 compared (wrong, or void at the code's fifth try), 15 refused as locked; then the right one is refused", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const ctx = { ip: "198.51.100.150", userAgent: "burst-test" };
    const now = race.now();
    const session = await a.db.transaction().execute(async (tx) => {
      const flow = await createFlow(tx, a.random, { userId: user.id, kind: "signin", email: user.otp_email!, now });
      await issueCode({ ...a, random: everyCode(123_456) }, tx, flow, user.login_id, now);
      return (await createSession(tx, a.random, now, a.config.session, { userId: user.id, stage: "otp", flowId: flow.id, ...ctx })).session;
    });
    const outcomes = await Promise.all(guesses(20).map((code, i) => confirmCode(i % 2 ? b : a, user, session, code, ctx)));
    const kinds = outcomes.map((o) => o.kind);
    expect(kinds.filter((k) => k === "locked")).toHaveLength(15);
    expect(kinds.filter((k) => k !== "locked").every((k) => k === "wrong" || k === "void")).toBe(true);
    const [code] = await a.db.selectFrom("codes").select("tries").where("flow_id", "=", session.flow_id!).execute();
    expect(code!.tries).toBeLessThanOrEqual(5);
    expect((await confirmCode(a, user, session, "123456", ctx)).kind).toBe("locked");
  });

  it("the self-service reset's code: 5 compared, 15 refused as locked; then the right one sets nothing", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const ctx = { ip: "198.51.100.151", userAgent: "burst-test" };
    const state = await startPasswordReset({ ...a, random: everyCode(123_456) }, user.login_id, ctx);
    const form = (code: string) => ({ code, newPassword: "a new password of hers 9", confirmNewPassword: "a new password of hers 9" });
    const outcomes = await Promise.all(guesses(20).map((code, i) => completePasswordReset(i % 2 ? b : a, state, form(code), ctx)));
    const kinds = outcomes.map((o) => o.kind);
    expect(kinds.filter((k) => k === "locked")).toHaveLength(15);
    expect(kinds.filter((k) => k === "code-refused")).toHaveLength(5);
    expect((await completePasswordReset(a, state, form("123456"), ctx)).kind).toBe("locked");
    const stored = await a.db.selectFrom("users").select("password_hash").where("id", "=", user.id).executeTakeFirstOrThrow();
    expect(stored.password_hash).toBe(user.password_hash);
  });
});
