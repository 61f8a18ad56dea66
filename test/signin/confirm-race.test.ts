import { describe, expect, it } from "vitest";
import { loadSignedIn } from "../../src/session/sessions.ts";
import { confirmCode } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser } from "../support/app.ts";
import { extractCode } from "../support/smtp.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

/**
 * POST /otp reads its flow in the session's statement (issue 17, `flow: true`), before the reservation
 * as before. Four requests at once with the right code, each with the flow it read with the session
 * (none of them finished yet): one signs in, the others are told the code was used, and none is
 * counted as a wrong try (a stale flow is no free guess and no second sign-in).
 */
describe.each(DIALECTS)("the right code confirmed by four requests at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "confirmrace");

  it("one signs in, three are told 'used', no wrong try counted", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const ctx = { ip: "198.51.100.41", userAgent: "race-test" };
    const step = await passwordStep(a, { loginId: user.login_id, password: user.password, returnTo: null }, ctx);
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    // The flow's one code, as its mail says it (either dialect).
    const mail = await a.db.selectFrom("codes").innerJoin("outbox", "outbox.id", "codes.outbox_id").select("outbox.text_body").where("codes.flow_id", "=", step.session.flow_id!).executeTakeFirstOrThrow();
    const right = extractCode(mail.text_body);
    const now = race.now();
    const loaded = await Promise.all([a, b, a, b].map((deps) => loadSignedIn(deps.db, step.token, now, deps.config.session, true)));
    for (const l of loaded) expect(l?.flow).toMatchObject({ id: step.session.flow_id, finished_at: null });
    const outcomes = await Promise.all(
      loaded.map((l, i) => {
        const deps = i % 2 ? b : a;
        return confirmCode(deps, l!.user, l!.session, right, ctx, l!.flow);
      }),
    );
    expect(outcomes.map((o) => o.kind).sort()).toEqual(["signed-in", "used", "used", "used"]);
    const tries = await a.db.selectFrom("codes").select("tries").where("flow_id", "=", step.session.flow_id!).execute();
    expect(tries.map((c) => c.tries)).toEqual([0]);
    const failed = await a.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).where("event", "like", "%failed%").execute();
    expect(failed).toEqual([]);
  });
});
