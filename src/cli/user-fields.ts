import { Refused } from "./io.ts";

const CONTROL = /[\u0000-\u001f\u007f]/;

/** The same limits for every way a user is made (add, import): printable, bounded, non-empty. */
export function userFieldProblem(fields: { loginId: string; fullName: string; partnerNumber: string }): string | null {
  const loginId = fields.loginId.trim();
  if (loginId === "" || loginId.length > 128) return "the login ID must be 1 to 128 characters";
  if (CONTROL.test(loginId) || /\s/.test(loginId)) return "the login ID must not contain spaces or control characters";
  const name = fields.fullName.trim();
  if (name === "" || name.length > 200 || CONTROL.test(name)) return "the full name must be 1 to 200 printable characters";
  const partner = fields.partnerNumber.trim();
  if (partner === "" || partner.length > 32 || !/^[A-Za-z0-9-]+$/.test(partner)) return "the partner number must be 1 to 32 letters, digits or dashes";
  return null;
}

export function checkUserFields(fields: { loginId: string; fullName: string; partnerNumber: string }): void {
  const problem = userFieldProblem(fields);
  if (problem) throw new Refused(problem);
}
