import type { MessageKey } from "../../i18n/catalogues.ts";
import type { Translator } from "../../i18n/translator.ts";
import type { Role } from "../../users/users.ts";

/** Each role's name in the catalogues, by key (a key is used by name in src/: test/i18n/catalogue.test.ts). */
const ROLE_NAMES = { user: "console.roleName.user", support: "console.roleName.support", admin: "console.roleName.admin" } as const satisfies Record<Role, MessageKey>;

/**
 * A role as the console's reader calls it (QA: `user`, `support`, `admin` were shown untranslated in
 * every language). Shown only: forms post, and the CLI and audit trail keep, the role's own name (SPEC).
 */
export function roleName(t: Translator, role: Role): string {
  return t.text(ROLE_NAMES[role]);
}
