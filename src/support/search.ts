import { expressionBuilder, sql, type Expression, type Kysely } from "kysely";
import { SQLITE_UNICODE_LOWER, type Dialect } from "../store/database.ts";
import type { Database } from "../store/schema.ts";
import type { User } from "../users/users.ts";
import { pageWithin, type PastEnd } from "./paging.ts";

export const SEARCH_PAGE_SIZE = 20;
export const SEARCH_MAX_LENGTH = 100;
/**
 * The last page a `?page=N` opens (as the audit trail's AUDIT_NUMBERED_PAGES): a page is read by
 * OFFSET, which reads and throws away every row before it, so a search matching most of a large user
 * table, asked for a page deep into it, made the database walk the table. 20 pages (400 users) is more
 * than anyone reads through; past it the search is to be narrowed (SearchResult.pageLimit says so).
 */
export const SEARCH_NUMBERED_PAGES = 20;

export interface SearchResult {
  users: User[];
  total: number;
  page: number;
  pageCount: number;
  pastEnd: PastEnd | null;
  /** Set when a page past SEARCH_NUMBERED_PAGES was asked for (and the list goes on past it): that page is shown instead. */
  pageLimit: { asked: number; limit: number } | null;
}

/** A LIKE pattern that matches `text` literally anywhere: %, _ and \ in the input are escaped. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A column lower-cased as JavaScript does, for comparing with a word lower-cased there. SQLite's own
 * lower() leaves every capital beyond ASCII as it is, so "özge" would not find "Özge"; its
 * JavaScript function is called only for a word with such letters (an ASCII word matches ASCII
 * letters alone, which lower() folds), so a plain search costs no call per row.
 */
function unicodeLower(dialect: Dialect, column: SearchedColumn, word: string): Expression<string> {
  const beyondAscii = dialect === "sqlite" && /[^\u0000-\u007f]/.test(word);
  return expressionBuilder<Database, "users">().fn<string>(beyondAscii ? SQLITE_UNICODE_LOWER : "lower", [column]);
}

const SEARCHED = ["login_id", "full_name", "partner_number", "otp_email", "pending_email"] as const;
type SearchedColumn = (typeof SEARCHED)[number];

/**
 * "Find users" (SPEC item 8): parts of the login ID, name, partner number or email, ignoring case
 * in every script, in login ID order, one page at a time. Parameterised like every query; the LIKE
 * wildcards of the input are escaped so "%" finds a per cent sign, not everyone. The words are taken
 * in composed form (NFC, as names are typed and stored), so a name pasted with combining accents
 * ("O" and U+0308) still finds "Özge".
 */
export async function searchUsers(db: Kysely<Database>, dialect: Dialect, query: string, page = 1, filter: { disabledOnly?: boolean } = {}): Promise<SearchResult> {
  const text = query.normalize("NFC").trim().replace(/\s+/g, " ").toLowerCase().slice(0, SEARCH_MAX_LENGTH);
  if (text === "" && !filter.disabledOnly) return { users: [], total: 0, page: 1, pageCount: 0, pastEnd: null, pageLimit: null };
  // Every word must appear in one of the fields: "smith jane" finds "Jane  Smith".
  const words = text === "" ? [] : text.split(" ").slice(0, 5);
  const like = (column: SearchedColumn, word: string) => sql<boolean>`${unicodeLower(dialect, column, word)} like ${containsPattern(word)} escape '\\'`;
  const base = db
    .selectFrom("users")
    // The "Disabled" filter (issue 11): leavers only.
    .$if(filter.disabledOnly === true, (q) => q.where("disabled_at", "is not", null))
    .where((eb) =>
      eb.and(
        words.map((word) =>
          eb.or(SEARCHED.map((column) => like(column, word))),
        ),
      ),
    );
  const counted = await base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  const total = Number(counted.n);
  const within = pageWithin(page, total, SEARCH_PAGE_SIZE);
  const { pageCount } = within;
  const beyond = within.page > SEARCH_NUMBERED_PAGES;
  const current = beyond ? SEARCH_NUMBERED_PAGES : within.page;
  const pastEnd = beyond ? null : within.pastEnd;
  const pageLimit = beyond ? { asked: Math.max(1, Math.floor(page)), limit: SEARCH_NUMBERED_PAGES } : null;
  const users = await base
    .selectAll()
    .orderBy("login_key")
    .limit(SEARCH_PAGE_SIZE)
    .offset((current - 1) * SEARCH_PAGE_SIZE)
    .execute();
  return { users, total, page: current, pageCount, pastEnd, pageLimit };
}
