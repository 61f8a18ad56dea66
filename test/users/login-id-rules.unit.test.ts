import { describe, expect, it } from "vitest";
import { userFieldProblem, userFieldProblems } from "../../src/users/fields.ts";

const LENGTH = "the login ID must be 1 to 128 characters";
const SPACES = "the login ID must not contain spaces or control characters";

/**
 * users/fields.ts loginIdProblem: the rules every login ID keeps, new or not (user add and the console
 * ask with the rules for new login IDs, the import's file check without them: `newLoginId: false`).
 * Found by mutation run B2: no test said either reason, so the length bound could go or move by one.
 */
describe("a login ID's own rules (loginIdProblem), for new login IDs and the import's check alike", () => {
  const problem = (loginId: string, newLoginId: boolean) => userFieldProblem({ loginId, fullName: "Jane Smith", partnerNumber: "01234" }, { newLoginId });

  it("is 1 to 128 characters after trimming: empty, blank and 129 refused, 1 and 128 taken", () => {
    for (const newLoginId of [true, false]) {
      expect(problem("", newLoginId)).toBe(LENGTH);
      expect(problem("   ", newLoginId)).toBe(LENGTH);
      expect(problem("x".repeat(129), newLoginId)).toBe(LENGTH);
      expect(problem("x", newLoginId)).toBeNull();
      expect(problem("x".repeat(128), newLoginId)).toBeNull();
    }
  });

  it("has no space or control character inside it: a space, a tab, a no-break space, BEL and U+009B refused", () => {
    for (const newLoginId of [true, false]) {
      for (const inside of [" ", "\t", "\u00a0", "\u0007", "\u009b"]) expect(problem(`j${inside}smith`, newLoginId), JSON.stringify(inside)).toBe(SPACES);
    }
  });

  it("names the login ID's field, the first of the form's problems", () => {
    expect(userFieldProblems({ loginId: "x".repeat(129), fullName: "", partnerNumber: "01234" }).map((p) => [p.field, p.message])).toEqual([
      ["loginId", LENGTH],
      ["fullName", "the full name must be 1 to 200 printable characters"],
    ]);
  });
});

const OPERATOR = 'the login ID must not begin with "operator:", which the audit trail uses for the command line\'s operators';

/**
 * Review finding: a login ID shaped like the command line's actor ("operator:root") would read, on the
 * trail and to the ?done= claims, as an operator. New login IDs (user add, the console, an import row
 * that makes an account) are refused it in any case; an account made before keeps its own.
 */
describe("a new login ID does not begin with the operator's prefix (newLoginIdProblem)", () => {
  const problem = (loginId: string, newLoginId: boolean) => userFieldProblem({ loginId, fullName: "Op Root", partnerNumber: "01234" }, { newLoginId });

  it("refuses operator:… in any case, and takes the word elsewhere", () => {
    for (const loginId of ["operator:root", "Operator:x", " OPERATOR:", "operator:"]) expect(problem(loginId, true), loginId).toBe(OPERATOR);
    for (const loginId of ["operator", "operator.root", "the.operator:root", "operator;root"]) expect(problem(loginId, true), loginId).toBeNull();
  });

  it("leaves an existing account's login ID to it (the import's file check)", () => {
    expect(problem("operator:root", false)).toBeNull();
  });
});
