import { userFieldProblem } from "../users/fields.ts";
import { Refused } from "./io.ts";

/** `user add` refuses a field that userFieldProblem finds wrong, with its reason. */
export function checkUserFields(fields: { loginId: string; fullName: string; partnerNumber: string }): void {
  const problem = userFieldProblem(fields);
  if (problem) throw new Refused(problem);
}
