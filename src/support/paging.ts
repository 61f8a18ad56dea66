/**
 * The one rule of the console's paged lists ("Find users", the audit trail): which page a request
 * asks for, and which page it gets. A page past the end (a link kept from last week, a typed
 * `?page=999999`) gets the last page, and says so, rather than an empty table with no way back.
 */

/** Far beyond any list's end; keeps an offset computed from it a safe integer. */
const MAX_PAGE = 1_000_000_000;

/** The page a query string asks for: a positive whole number, else the first (`two`, `-1`, `0`). */
export function askedPage(value: unknown): number {
  if (typeof value !== "string" || !/^\d{1,15}$/.test(value)) return 1;
  return Math.min(MAX_PAGE, Math.max(1, Number(value)));
}

/** A row a keyset link continues from (`?before=<id>`, `?after=<id>`): a positive whole number, else none. */
export function askedRow(value: unknown): number | undefined {
  if (typeof value !== "string" || !/^\d{1,15}$/.test(value)) return undefined;
  const id = Number(value);
  return id > 0 ? id : undefined;
}

/** A page number asked for that is past the last page: what the list says above its rows. */
export interface PastEnd {
  asked: number;
  pageCount: number;
}

export interface PageWithin {
  page: number;
  pageCount: number;
  /** Set when the page asked for is past the end of a list that has rows. */
  pastEnd: PastEnd | null;
}

/** The page asked for, kept within the pages `total` rows fill (at least one page, empty or not). */
export function pageWithin(asked: number, total: number, pageSize: number): PageWithin {
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  const wanted = Math.max(1, Math.floor(asked));
  const page = Math.min(wanted, pageCount);
  return { page, pageCount, pastEnd: total > 0 && wanted > pageCount ? { asked: wanted, pageCount } : null };
}
