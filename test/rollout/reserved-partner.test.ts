import { describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { translator } from "../../src/i18n/translator.ts";
import { changeWave } from "../../src/rollout/plan-change.ts";
import { readPlan } from "../../src/rollout/plan.ts";
import { userFieldProblems } from "../../src/users/fields.ts";
import { useCliApp } from "../cli/run-famos.ts";

const RESERVED = 'the partner number must not be "all" or "default": the rollout names its total row and its default start so';
const RESERVED_SENTENCE = 'The partner number must not be "all" or "default": the rollout names its total row and its default start so.';
const OPERATOR = { actor: "operator", ip: null, userAgent: null };

/**
 * The rollout's CSV and plan table end with a total row named "all", and the audit trail names the
 * default start "default": a partner number spelt either way (in any case, as a spreadsheet's filter
 * matches it) was taken and then read as the total or the default. Refused where partner numbers are
 * checked (users/fields.ts, partnerNumberProblem): making or importing a user, a rollout wave in the
 * console or `famos rollout plan`, and `famos rollout announce --partner`.
 */
describe("reserved partner numbers", () => {
  const f = useCliApp();

  it("a user's partner number: all, ALL, Default refused; alle, all-1, 0all accepted", () => {
    const problems = (partnerNumber: string) => userFieldProblems({ loginId: "jane.smith", fullName: "Jane Smith", partnerNumber }).map((p) => p.message);
    for (const reserved of ["all", "ALL", " All ", "default", "Default"]) expect(problems(reserved), reserved).toEqual([RESERVED]);
    for (const fine of ["alle", "all-1", "0all", "defaults"]) expect(problems(fine), fine).toEqual([]);
  });

  it("a rollout wave for partner all is refused in words for the console form, and nothing is planned", async () => {
    const outcome = await changeWave(f.t.deps, { user: null, audit: OPERATOR }, { partner: "all", from: "2027-01-11T07:00" });
    expect(outcome).toEqual({ kind: "invalid", message: RESERVED_SENTENCE, problems: { partner: RESERVED_SENTENCE } });
    expect((await readPlan(f.t.deps.db)).waves).toEqual([]);
  });

  it("the console says it in each of the six languages", () => {
    for (const locale of LOCALES.filter((l) => l !== "en-GB")) {
      const t = translator(locale, "Europe/Berlin");
      expect(t.said(RESERVED_SENTENCE), locale).not.toBe(RESERVED_SENTENCE);
      expect(t.said(RESERVED), locale).not.toBe(RESERVED);
    }
  });

  it("the command line refuses it (exit 1): user add, rollout plan, rollout announce", async () => {
    const add = await f.cli.run(["user", "add", "partner.all", "--name", "Partner All", "--partner", "all"], { stdin: "a long and unusual passphrase 7\n" });
    expect([add.code, add.stderr]).toEqual([1, `famos: ${RESERVED}\n`]);
    const plan = await f.cli.inProcess(["rollout", "plan", "--partner", "ALL", "--from", "2027-01-11T07:00"]);
    expect([plan.code, plan.stderr]).toEqual([1, `famos: ${RESERVED_SENTENCE}\n`]);
    const announce = await f.cli.inProcess(["rollout", "announce", "--partner", "all", "--dry-run"]);
    expect([announce.code, announce.stderr]).toEqual([1, `famos: ${RESERVED}\n`]);
  });
});
