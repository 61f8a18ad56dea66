import type { FormClient } from "./client.ts";

/** The stamp a page of the console's temporary-password form carries (account/temporary-password.ts). */
export function formStampOf(page: { body: string }): string {
  const stamp = /name="formStamp" value="([^"]+)"/.exec(page.body)?.[1];
  if (!stamp) throw new Error("the page carries no temporary-password form stamp");
  return stamp;
}

/** Opens "Set a temporary password" as a browser does: the form's stamp, which both steps send. */
export async function openTemporaryPasswordForm(client: FormClient, userId: string): Promise<string> {
  return formStampOf(await client.get(`/support/users/${userId}/temporary-password`));
}
