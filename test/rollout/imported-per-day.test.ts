import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rolloutProgress } from "../../src/rollout/progress.ts";
import { rolloutJson } from "../../src/rollout/report.ts";
import { storeImportedUsers, type ImportedUser } from "../../src/support/import-users.ts";
import { recordAudit } from "../../src/audit/audit.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";

const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0C5s0mN7QTdNdTfp7bXf0G1mV8rLxW4yN1A9c3q0hK8";
const row = (line: number, loginId: string, email: string | null): ImportedUser => ({ line, loginId, fullName: `Person ${line}`, partnerNumber: "4400", role: "user", email, passwordHash: HASH });

/**
 * Enrolments per day (the Rollout page, its chart and `famos rollout status --json`) counted only
 * codes confirmed at sign-in: users that `famos user import` brought with a confirmed address were
 * in the enrolled figure but on no day. They count on the day of the import, shown apart as imported;
 * an address imported as a contact (--email-as-contact) is no enrolment.
 */
describe.each(DIALECTS)("enrolments per day with imported addresses (%s)", (database) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database });
  });
  afterAll(async () => t?.close());

  it("counts a row imported with an address on the day of the import, says how many were imported, and not a contact address", async () => {
    const actor = { actor: "operator:test", ip: null, userAgent: null };
    await storeImportedUsers(t.deps, [row(2, "imp.one", "one@dealer.example"), row(3, "imp.two", "two@dealer.example"), row(4, "imp.none", null)], { update: false, actor });
    await storeImportedUsers(t.deps, [row(2, "imp.contact", "contact@dealer.example")], { update: false, emailAsContact: true, actor });
    // One more confirms an address at sign-in the same day (the event the enrolment writes).
    await recordAudit(t.deps.db, t.clock.now(), { event: "enrolment.confirmed", actor: "imp.signin", subject: "imp.signin", ip: null, userAgent: null });
    const progress = await rolloutProgress(t.deps);
    expect(progress.days.at(-1)).toMatchObject({ enrolled: 3, imported: 2 });
    expect(progress.days.slice(0, -1).every((d) => d.enrolled === 0 && d.imported === 0)).toBe(true);
    expect((rolloutJson(progress) as { enrolmentsPerDay: unknown[] }).enrolmentsPerDay.at(-1)).toMatchObject({ enrolled: 3, imported: 2 });
    // The console's table says it beside the day's enrolments.
    const support = new FormClient(t.app);
    await signInFully(support, t.smtp, await addUser(t.deps, { role: "support", loginId: "imp.support", email: "imp.support@famos.test" }));
    const page = (await support.get("/support/rollout")).body;
    expect(page).toContain('<th scope="col">Enrolled</th><th scope="col">Of which imported</th>');
    expect(page).toMatch(/<td data-figure="enrolled">3<\/td><td data-figure="imported">2<\/td><\/tr><\/tbody>/);
  });

  it("counts an existing account that import --update gives its first OTP email, and not one whose address it changes", async () => {
    const actor = { actor: "operator:test", ip: null, userAgent: null };
    const day = async () => (await rolloutProgress(t.deps)).days.at(-1)!;
    await storeImportedUsers(t.deps, [row(2, "upd.none", null), row(3, "upd.had", "had@dealer.example")], { update: false, actor });
    const before = await day();
    await storeImportedUsers(t.deps, [row(3, "upd.had", "had.new@dealer.example")], { update: true, actor });
    expect(await day()).toMatchObject({ enrolled: before.enrolled, imported: before.imported });
    await storeImportedUsers(t.deps, [row(2, "upd.none", "none@dealer.example")], { update: true, actor });
    expect(await day()).toMatchObject({ enrolled: before.enrolled + 1, imported: before.imported + 1 });
  });

  it("names every calendar day once across a change of the clocks: the night after the 23-hour day, that day is not skipped", async () => {
    // 00:30 BST on Monday 30 March 2026: 24 hours before is 23:30 GMT on Saturday, past Sunday 29 March (23 hours).
    const clock = t.clock.now();
    try {
      t.clock.set(Date.UTC(2026, 2, 29, 23, 30));
      await recordAudit(t.deps.db, Date.UTC(2026, 2, 29, 12), { event: "enrolment.confirmed", actor: "dst.sunday", subject: "dst.sunday", ip: null, userAgent: null });
      const progress = await rolloutProgress(t.deps, { days: 3, timeZone: "Europe/London" });
      expect(progress.days.map((d) => [d.day, d.enrolled])).toEqual([["28/03/2026", 0], ["29/03/2026", 1], ["30/03/2026", 0]]);
    } finally {
      t.clock.set(clock);
    }
  });
});
