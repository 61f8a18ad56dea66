import { describe, expect, it } from "vitest";
import { createFlow, finishUserFlows } from "../../src/otp/flows.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/**
 * finishUserFlows (src/otp/flows.ts), option by option: all of a user's open flows but `except` (a kept
 * email change, endUserAccess), or only those of `kinds` sent to another address than `otherAddressThan`
 * (an enrolment superseding the addresses entered before it; a double click re-entering the same one
 * keeps its flow). Never another user's, never one already finished. Runs C11–C12: each filter's removal survived.
 */
describe("finishUserFlows (unit tier)", () => {
  const unit = useUnitDeps();

  async function flows() {
    const user = await addUser(unit.deps, { email: null });
    const other = await addUser(unit.deps, { email: null });
    const now = unit.clock.now();
    const make = (userId: string, kind: "signin" | "enrol" | "email-change", email: string) => createFlow(unit.deps.db, unit.deps.random, { userId, kind, email, now });
    const made = {
      signin: await make(user.id, "signin", "a@dealer.test"),
      enrolA: await make(user.id, "enrol", "a@dealer.test"),
      enrolB: await make(user.id, "enrol", "b@dealer.test"),
      change: await make(user.id, "email-change", "c@dealer.test"),
      others: await make(other.id, "signin", "a@dealer.test"),
    };
    const open = async () => {
      const rows = await unit.deps.db.selectFrom("flows").select(["id", "finished_at"]).where("id", "in", Object.values(made).map((flow) => flow.id)).execute();
      const finished = new Set(rows.filter((row) => row.finished_at !== null).map((row) => row.id));
      return Object.entries(made).filter(([, flow]) => !finished.has(flow.id)).map(([name]) => name);
    };
    return { user, made, open, now };
  }

  it("no option: every open flow of the user, no one else's", async () => {
    const { user, open, now } = await flows();
    await finishUserFlows(unit.deps.db, user.id, now);
    expect(await open()).toEqual(["others"]);
  });

  it("except: all of the user's but that one", async () => {
    const { user, made, open, now } = await flows();
    await finishUserFlows(unit.deps.db, user.id, now, { except: made.change.id });
    expect(await open()).toEqual(["change", "others"]);
  });

  it("kinds and otherAddressThan: only the enrolments to another address", async () => {
    const { user, open, now } = await flows();
    await finishUserFlows(unit.deps.db, user.id, now, { kinds: ["enrol"], otherAddressThan: "a@dealer.test" });
    expect(await open()).toEqual(["signin", "enrolA", "change", "others"]);
  });

  it("kinds alone: every flow of those kinds", async () => {
    const { user, open, now } = await flows();
    await finishUserFlows(unit.deps.db, user.id, now, { kinds: ["enrol", "email-change"] });
    expect(await open()).toEqual(["signin", "others"]);
  });

  it("a flow finished already keeps its time", async () => {
    const { user, made, now } = await flows();
    await finishUserFlows(unit.deps.db, user.id, now, { kinds: ["signin"] });
    await finishUserFlows(unit.deps.db, user.id, now + 5_000);
    const row = await unit.deps.db.selectFrom("flows").select("finished_at").where("id", "=", made.signin.id).executeTakeFirstOrThrow();
    expect(Number(row.finished_at)).toBe(now);
  });
});
