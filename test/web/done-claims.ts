import type { FormClient } from "../support/client.ts";

/** The page's notice box, where a `?done=` claim's words go (checkedDoneNotice). */
export const NOTICE = 'class="message info"';

/** The page at `url` as `client` reads it when it says something there; null when it says nothing. */
export async function saidOn(client: FormClient, url: string): Promise<string | null> {
  const body = (await client.get(url)).body;
  return body.includes(NOTICE) ? body : null;
}
