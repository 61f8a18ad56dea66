import { addUser, createTestApp, type TestApp } from "./app.ts";
import { FormClient, signInFully } from "./client.ts";

/**
 * The console's tests' one setup: an app over `database`, a support person and an administrator
 * (named by the login IDs given, so files sharing a database never meet), each signed in fully with a
 * code in a client of their own. The caller closes `t`.
 */
export async function consoleWithStaff(database: "sqlite" | "postgres", logins: { support: string; admin: string }): Promise<{ t: TestApp; support: FormClient; admin: FormClient }> {
  const t = await createTestApp({ database });
  const support = new FormClient(t.app);
  await signInFully(support, t.smtp, await addUser(t.deps, { role: "support", loginId: logins.support }));
  const admin = new FormClient(t.app);
  await signInFully(admin, t.smtp, await addUser(t.deps, { role: "admin", loginId: logins.admin }));
  return { t, support, admin };
}
