import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { recordAudit, type Actor } from "../audit/audit.ts";
import { randomId } from "../platform/random.ts";
import { preparedQuery } from "../store/prepared.ts";
import { hasControlCharacters, hasInvisibleCharacters, showHiddenCharacters } from "../users/fields.ts";
import type { Database, NoticesTable } from "../store/schema.ts";

export type Notice = NoticesTable;

/**
 * A notice as every page shows it, read through showHiddenCharacters: a row stored before checkNotice
 * refused invisible characters in the body (and any written by other means) may hold a U+202E, which
 * reversed the text after it for every reader of the banner or the notice's page. Each such character
 * becomes a visible U+FFFD; the body's line breaks (its paragraphs) stay. Saving the console's edit
 * form, filled with these words, stores them so.
 */
function shown(notice: Notice): Notice {
  return { ...notice, title: showHiddenCharacters(notice.title), body: notice.body.split("\n").map(showHiddenCharacters).join("\n") };
}

/** Notices shown on the portal's banner: not ended, newest first. */
export async function activeNotices(db: Kysely<Database>): Promise<Notice[]> {
  return (await liveNotices(db)).map(shown);
}

// Issue 17: every portal and Profile page asks it; built and compiled once.
const liveNotices = preparedQuery((db) => db.selectFrom("notices").selectAll().where("ended_at", "is", null).orderBy("created_at", "desc").limit(5));

export async function findNotice(db: Kysely<Database>, id: string): Promise<Notice | undefined> {
  const notice = await db.selectFrom("notices").selectAll().where("id", "=", id).executeTakeFirst();
  return notice && shown(notice);
}

/** Every notice, live ones first, newest first within each (the support console's list). */
export async function listNotices(db: Kysely<Database>, limit = 100): Promise<Notice[]> {
  const notices = await db
    .selectFrom("notices")
    .selectAll()
    .orderBy((eb) => eb.case().when("ended_at", "is", null).then(0).else(1).end())
    .orderBy("created_at", "desc")
    .limit(limit)
    .execute();
  return notices.map(shown);
}

export const NOTICE_TITLE_MAX = 100;
export const NOTICE_BODY_MAX = 4000;

export interface NoticeInput {
  title: string;
  body: string;
}

/** A field of a notice that breaks its rule, with the rule's sentence. */
export interface NoticeProblem {
  field: "title" | "body";
  message: string;
}

export type NoticeCheck = { ok: true; title: string; body: string } | { ok: false; problems: NoticeProblem[] };

/** A title such as "Application Issue" and the text of the notice's own page; both checked, so the form says all at once. */
export function checkNotice(input: NoticeInput): NoticeCheck {
  const title = input.title.trim();
  const body = input.body.replace(/\r\n?/g, "\n").trim();
  const problems: NoticeProblem[] = [];
  // Line breaks (LF, after CRLF and CR became LF) belong in the body only; no other control
  // character anywhere: C0 (tabs included), DEL and C1, the one rule of users/fields.ts.
  if (title === "" || title.length > NOTICE_TITLE_MAX || hasControlCharacters(title)) {
    problems.push({ field: "title", message: `Enter a title of 1 to ${NOTICE_TITLE_MAX} characters on one line, such as "Application Issue".` });
  } else if (hasInvisibleCharacters(title)) {
    // The banner shows the title with the date and "Please click for more info" after it, on every page.
    problems.push({ field: "title", message: "The title must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)." });
  }
  if (body === "" || body.length > NOTICE_BODY_MAX || hasControlCharacters(body.replaceAll("\n", ""))) {
    problems.push({ field: "body", message: `Enter the text of the notice, 1 to ${NOTICE_BODY_MAX} characters.` });
  } else if (hasInvisibleCharacters(body)) {
    // The title's rule: the body is the notice's page every member of staff is sent to, and a U+202E
    // there reverses a phone number or a time; a zero-width space hides a word from a search.
    problems.push({ field: "body", message: "The text must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)." });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, title, body };
}

export type NoticeChange = { kind: "saved"; notice: Notice } | { kind: "invalid"; problems: NoticeProblem[] } | { kind: "not-found" } | { kind: "ended" };

/** Posts a notice on the portal's banner; audited "notice.created". */
export async function createNotice(deps: Deps, by: Actor, input: NoticeInput): Promise<NoticeChange> {
  const check = checkNotice(input);
  if (!check.ok) return { kind: "invalid", problems: check.problems };
  const now = deps.clock.now();
  const notice: Notice = { id: randomId(deps.random), title: check.title, body: check.body, created_at: now, updated_at: null, ended_at: null, created_by: by.actor ?? "unknown" };
  await deps.db.transaction().execute(async (tx) => {
    await tx.insertInto("notices").values(notice).execute();
    await recordAudit(tx, now, { ...by, event: "notice.created", subject: null, detail: { notice: notice.id, title: notice.title } });
  });
  return { kind: "saved", notice };
}

/** Edits a live notice: the banner then shows "UPDATED" with the time. Audited "notice.updated". */
export async function updateNotice(deps: Deps, by: Actor, id: string, input: NoticeInput): Promise<NoticeChange> {
  const check = checkNotice(input);
  if (!check.ok) return { kind: "invalid", problems: check.problems };
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const result = await tx
      .updateTable("notices")
      .set({ title: check.title, body: check.body, updated_at: now })
      .where("id", "=", id)
      .where("ended_at", "is", null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return (await findNotice(tx, id)) ? { kind: "ended" as const } : { kind: "not-found" as const };
    await recordAudit(tx, now, { ...by, event: "notice.updated", subject: null, detail: { notice: id, title: check.title } });
    return { kind: "saved" as const, notice: (await findNotice(tx, id))! };
  });
}

/** Takes a notice off the banner; its page stays, marked ended. Audited "notice.ended". */
export async function endNotice(deps: Deps, by: Actor, id: string): Promise<{ kind: "ended"; notice: Notice } | { kind: "not-found" } | { kind: "already-ended" }> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const result = await tx.updateTable("notices").set({ ended_at: now }).where("id", "=", id).where("ended_at", "is", null).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return (await findNotice(tx, id)) ? { kind: "already-ended" as const } : { kind: "not-found" as const };
    const notice = (await findNotice(tx, id))!;
    await recordAudit(tx, now, { ...by, event: "notice.ended", subject: null, detail: { notice: id, title: notice.title } });
    return { kind: "ended" as const, notice };
  });
}
