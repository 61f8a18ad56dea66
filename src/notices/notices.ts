import type { Kysely } from "kysely";
import type { Database, NoticesTable } from "../store/schema.ts";

export type Notice = NoticesTable;

/** Notices shown on the portal's banner: not ended, newest first. */
export async function activeNotices(db: Kysely<Database>): Promise<Notice[]> {
  return db.selectFrom("notices").selectAll().where("ended_at", "is", null).orderBy("created_at", "desc").limit(5).execute();
}

export async function findNotice(db: Kysely<Database>, id: string): Promise<Notice | undefined> {
  return db.selectFrom("notices").selectAll().where("id", "=", id).executeTakeFirst();
}
