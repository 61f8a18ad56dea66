import { describe, expect, it } from "vitest";
import { eraseUser } from "../../src/account/erase.ts";
import { addUser } from "../support/app.ts";
import { DIALECTS, useRacers, type TestDialect } from "../store/dialects.ts";

/**
 * `famos user delete --erase` run twice at once (two operators, a retried script): one erasure, and the
 * second finds no account, as when it comes later. On PostgreSQL both read the account before either
 * committed, so both pseudonymised the trail and both audited "user.erased", the second with a
 * pseudonym of its own and no events.
 */
describe.each(DIALECTS)("two erasures of one user at once on %s", (dialect: TestDialect) => {
  const race = useRacers(dialect, "erasetwice");

  it("erase once, and the trail holds one user.erased", async () => {
    const [a, b] = await race.pair();
    const user = await addUser(a);
    const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } };
    const outcomes = await Promise.all([a, b].map((deps) => eraseUser(deps, operator, user.id)));
    expect(outcomes.map((o) => o.kind).sort()).toEqual(["erased", "not-found"]);
    const erased = await a.db.selectFrom("audit").select("subject").where("event", "=", "user.erased").execute();
    expect(erased).toHaveLength(1);
  });
});
